/* handoff.h -- how a loadgen thread hands each finished interval's figures to the main thread. */
#ifndef LOADGEN_HANDOFF_H
#define LOADGEN_HANDOFF_H

#include <pthread.h>
#include <stdint.h>

#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one thread counted and timed in one interval. index -1 is the warm-up. */
typedef struct lg_slice {
    int64_t index;
    lg_stats stats;
    long open_at_end;        /* the worker's connections open when it posted the slice */
    long established_at_end; /* of which established but not yet greeted */
    struct lg_slice *next;
} lg_slice;

/*
 * One worker's mailbox. The worker records into a slice of its own without any lock; once
 * per interval it posts that slice and takes an empty one (handoff_swap), and the main
 * thread takes posted slices in order (handoff_take) and gives them back emptied. The lock
 * is taken only for those hand-overs, never per connection.
 */
typedef struct handoff {
    pthread_mutex_t lock;  /* guards every field below */
    lg_slice *posted_head, *posted_tail; /* oldest first */
    lg_slice *spare;       /* emptied slices ready for reuse */
    int64_t recording;     /* index of the slice the worker records into now */
    int finished;          /* the worker posted its last slice */
} handoff;

/* Returns 0, or -1 on ENOMEM. The first slice to record into comes from handoff_swap(NULL). */
int handoff_init(handoff *h);
/* Frees every slice it holds. */
void handoff_destroy(handoff *h);

/*
 * Worker: posts full (unless NULL) and returns an empty slice for interval next_index, owned
 * by the worker until posted. On ENOMEM returns NULL and posts nothing: the caller keeps
 * recording into full (its figures then land in an earlier interval, never lost).
 */
lg_slice *handoff_swap(handoff *h, lg_slice *full, int64_t next_index);
/* Worker, at its end: posts its last slice and marks the mailbox finished. */
void handoff_finish(handoff *h, lg_slice *last);

/* Main thread: the oldest posted slice if its index is at most upto, else NULL. The caller
 * owns it until handoff_give_back (which empties it). */
lg_slice *handoff_take(handoff *h, int64_t upto);
void handoff_give_back(handoff *h, lg_slice *s);

/* Main thread: the index of the oldest posted slice, INT64_MAX when none is waiting. */
int64_t handoff_oldest(handoff *h);
/* Main thread: 1 once the worker posted its last slice. */
int handoff_finished(handoff *h);

/* Main thread: 1 once the worker records past interval index (or finished) and everything
 * it posted up to index was taken, so that interval is complete for this worker. */
int handoff_passed(handoff *h, int64_t index);

#ifdef __cplusplus
}
#endif
#endif
