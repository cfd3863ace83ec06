/* queue.h -- the bounded, lock-protected hand-off of accepted connections to pool workers. */
#ifndef GREETER_QUEUE_H
#define GREETER_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A fixed-capacity ring of conn_items. Lock rules: every field below `lock` is read and
 * written only with `lock` held (the do_ functions in queue.c expect it held and assert it).
 * Producers wait on `not_full`, consumers on a waiter of their own (or `not_empty`). When a
 * consumer is woken, and how
 * many items it takes, is the pool's policy (pool_policy.h): the queue keeps the state that
 * policy reads.
 */
/* One consumer's own condition variable while it waits (see conn_queue_reserve_waiters). */
typedef struct queue_waiter {
    pthread_cond_t cond;
    struct queue_waiter *next; /* in the idle stack, or among the spares */
    int woken;                 /* a producer took it off the idle stack to wake it */
} queue_waiter;

/* Wake-ups decided under the lock and sent once it is released, at most this many per hold
 * (more are sent under the lock). */
#define QUEUE_DUE_MAX 16

typedef struct conn_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    pthread_t holder;  /* the thread holding lock, while held is set (for the assertions) */
    int held;
    conn_item *ring;
    size_t capacity;
    size_t head;  /* next item to pop */
    size_t count; /* items queued */
    size_t high_water;
    unsigned idle_consumers;
    unsigned wakeups_pending; /* signals sent to idle consumers that have not woken yet */
    unsigned signals_due;     /* decided under the lock, sent once it is released */
    unsigned consumers;       /* threads that pop: idle or not (as consumers report) */
    uint64_t service_ns;      /* moving average of the time one item takes a consumer */
    uint64_t service_cpu_ns;  /* ... and of the CPU time it takes */
    uint64_t last_pop_ns;     /* when a consumer last took items */
    uint64_t last_wake_ns;    /* when a sleeping consumer was last woken */
    unsigned cpus;            /* CPUs online when the queue was made */
    unsigned waiting_producers;
    size_t wake_producers_below; /* a consumer that leaves fewer items than this signals not_full */
    int closed;
    /* Idle consumers with a waiter of their own, the last to go idle on top: a wake-up goes
     * to the consumer that ran last (its caches warm, and one worker kept busy rather than
     * every worker in turn, as glibc's shared condition variable wakes the longest waiting).
     * A consumer finding no spare waiter waits on not_empty as before. */
    queue_waiter *waiters; /* the array conn_queue_reserve_waiters made, owned by the queue */
    unsigned n_waiters;
    queue_waiter *idle_top;
    queue_waiter *spare;
    queue_waiter *due[QUEUE_DUE_MAX]; /* taken off idle_top, signalled by queue_unlock */
    unsigned n_due;
} conn_queue;

/* Allocates the ring (owned by the queue until conn_queue_destroy). 0, or -1 with err. */
int conn_queue_init(conn_queue *q, size_t capacity, char *err, size_t errlen);
/* Gives the queue a waiter for each of n consumers, so that a wake-up goes to the consumer
 * that went idle last (the queue owns them: a late signal never meets a freed one). Call
 * once, before any consumer pops. 0, or -1 with err. */
int conn_queue_reserve_waiters(conn_queue *q, unsigned n, char *err, size_t errlen);
/* Frees the ring. No thread may use the queue any more. Items still queued are not closed. */
void conn_queue_destroy(conn_queue *q);

/* Appends up to n items under one lock, waiting while full when wait is set (else stopping
 * at the first full slot; while it waits it wakes a consumer if the awake ones are stuck, as
 * conn_queue_nudge). Returns how many were appended; fewer than n means full (no wait)
 * or closed. When queued is not NULL it receives how many items the queue then held. */
size_t conn_queue_push_many(conn_queue *q, const conn_item *items, size_t n, int wait,
                            size_t *queued);
/* The same, unless nothing is queued and every consumer sleeps with no wake-up on its way (a
 * push would have to wake one): then appends nothing, returns 0 and sets *idle, so that the
 * caller may serve the items itself; else clears *idle. One lock either way. */
size_t conn_queue_push_unless_idle(conn_queue *q, const conn_item *items, size_t n, int wait,
                                   size_t *queued, int *idle);

/*
 * Takes several items under one lock, waiting while the queue is empty and open: its fair
 * share when `consumers` threads drain the queue (pool_share), at most max. service_ns and
 * service_cpu_ns are the wall and CPU time each item of this consumer's previous batch took
 * (0: none yet); they feed the wake-up policy. Returns how many it took; 0 means closed and
 * empty (a closed queue still hands out what it holds, so nothing is lost).
 */
size_t conn_queue_pop_many(conn_queue *q, conn_item *out, size_t max, unsigned consumers,
                           uint64_t service_ns, uint64_t service_cpu_ns);

/*
 * For a producer that need not keep the queue full: waits while `mark` or more items are
 * queued and the queue is open, at most timeout_ms. While it waits it wakes a consumer as
 * soon as the awake ones count as stuck (as conn_queue_nudge). Returns 1 when fewer than mark
 * are queued or the queue is closed, 0 when the time ran out first.
 */
int conn_queue_wait_below(conn_queue *q, size_t mark, int timeout_ms);

/* For the producer's idle moments: wakes a consumer when items wait and the awake consumers
 * are stuck (none has taken items or been woken for POOL_STALLED_AFTER_NS). Returns the
 * milliseconds after which to call again (just past the moment they would count as stuck),
 * or -1 when the queue is empty. */
int conn_queue_nudge(conn_queue *q);

/* No more pushes: wakes every waiter; pushers get 0 pushed, poppers drain what is left. */
void conn_queue_close(conn_queue *q);

/* The most items ever queued at once. */
size_t conn_queue_high_water(conn_queue *q);

/* The items queued right now (for the metrics page: it takes the lock). */
size_t conn_queue_depth(conn_queue *q);

#ifdef __cplusplus
}
#endif
#endif
