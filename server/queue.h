/* queue.h -- the bounded, lock-protected hand-off of accepted connections to pool workers. */
#ifndef GREETER_QUEUE_H
#define GREETER_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One accepted connection on its way to a worker. The queue copies items by value. */
typedef struct conn_item {
    int fd;
    socklen_t peer_len;
    struct sockaddr_storage peer;
    uint64_t accepted_ns; /* CLOCK_MONOTONIC when accept returned */
} conn_item;

/*
 * A fixed-capacity ring of conn_items. Lock rules: every field below `lock` is read and
 * written only with `lock` held. Producers wait on `not_full`, consumers on `not_empty`; each
 * side is signalled only when somebody of the other side is actually waiting (idle_consumers,
 * waiting_producers), so a busy pool makes no futex calls at all on hand-off.
 */
typedef struct conn_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    conn_item *ring;
    size_t capacity;
    size_t head;  /* next item to pop */
    size_t count; /* items queued */
    size_t high_water;
    unsigned idle_consumers;
    unsigned wakeups_pending; /* signals sent to idle consumers that have not woken yet */
    unsigned waiting_producers;
    int closed;
} conn_queue;

/* Allocates the ring (owned by the queue until conn_queue_destroy). 0, or -1 with err. */
int conn_queue_init(conn_queue *q, size_t capacity, char *err, size_t errlen);
/* Frees the ring. No thread may use the queue any more. Items still queued are not closed. */
void conn_queue_destroy(conn_queue *q);

/* Appends an item, waiting while the queue is full. 0 pushed, -1 the queue is closed. */
int conn_queue_push(conn_queue *q, const conn_item *item);
/* Appends without waiting: 0 pushed, 1 full, -1 closed. */
int conn_queue_try_push(conn_queue *q, const conn_item *item);

/* Takes the oldest item, waiting while the queue is empty and open. 0 got one; -1 the queue
 * is closed and empty (a closed queue still hands out what it holds, so nothing is lost). */
int conn_queue_pop(conn_queue *q, conn_item *out);

/* No more pushes: wakes every waiter; pushers get -1, poppers drain what is left then -1. */
void conn_queue_close(conn_queue *q);

/* The most items ever queued at once. */
size_t conn_queue_high_water(conn_queue *q);

#ifdef __cplusplus
}
#endif
#endif
