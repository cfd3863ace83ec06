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
 * written only with `lock` held. Producers wait on `not_full`, consumers on `not_empty`.
 *
 * Wake-ups are the expensive part of a hand-off (a futex call and a context switch on each
 * side), so a sleeping consumer is woken only when it helps:
 *   - nobody is awake, or the awake consumers have taken nothing for QUEUE_STALLED_AFTER_NS
 *     (they are stuck with slow clients). That is longer than a scheduler time slice: on a
 *     busy machine a consumer that is merely preempted must not look stuck, or one wake-up
 *     cascades into the whole pool running and sleeping in turn;
 *   - otherwise only while fewer are awake than can usefully run at once (the CPUs times the
 *     ratio of an item's wall time to its CPU time: work that mostly waits can use many
 *     workers per CPU; work that mostly computes gains nothing past one per CPU), and only
 *     when the queued items would keep the awake ones busy for long: queued x service time /
 *     awake above QUEUE_WAKE_AFTER_NS for work worth spreading, above QUEUE_LONG_BACKLOG_NS
 *     for the rest. Work is worth spreading when an item mostly waits (wall time at least 4x
 *     its CPU time, more than preemption alone explains) or costs at least
 *     QUEUE_SPREAD_CPU_NS of CPU. Below that, as for a bare greeting whose cost is mostly the
 *     kernel's, one worker serving items back to back beats two on two CPUs: they would pay
 *     a wake-up each, share the kernel's socket structures across CPUs, and take the CPU
 *     from the very clients that send the work.
 * The service times are moving averages that consumers report (conn_queue_pop_many). Bare
 * greetings then run on one busy worker that drains many items per wake-up, CPU work (TLS
 * handshakes) on one worker per CPU, and slow work (a 1 ms sleep) wakes as many as it needs.
 */
#define QUEUE_WAKE_AFTER_NS 200000u
#define QUEUE_LONG_BACKLOG_NS 10000000u
#define QUEUE_SPREAD_CPU_NS 50000u
#define QUEUE_STALLED_AFTER_NS 5000000u
#define QUEUE_STALLED_AFTER_MS ((int)(QUEUE_STALLED_AFTER_NS / 1000000u))
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
    unsigned consumers;       /* threads that pop: idle or not (as consumers report) */
    uint64_t service_ns;      /* moving average of the time one item takes a consumer */
    uint64_t service_cpu_ns;  /* ... and of the CPU time it takes */
    uint64_t last_pop_ns;     /* when a consumer last took items */
    unsigned cpus;            /* CPUs online when the queue was made */
    unsigned waiting_producers;
    size_t wake_producers_below; /* a consumer that leaves fewer items than this signals not_full */
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

/* Appends up to n items under one lock, waiting while full when wait is set (else stopping
 * at the first full slot; while it waits it wakes a consumer if the awake ones are stuck, as
 * conn_queue_nudge). Returns how many were appended; fewer than n means full (no wait)
 * or closed. When queued is not NULL it receives how many items the queue then held. */
size_t conn_queue_push_many(conn_queue *q, const conn_item *items, size_t n, int wait,
                            size_t *queued);

/*
 * Takes several items under one lock, waiting while the queue is empty and open: its fair
 * share when `consumers` threads drain the queue (the queued count divided among them,
 * rounded up), at most max. service_ns and service_cpu_ns are the wall and CPU time each
 * item of this consumer's previous batch took (0: none yet); they feed the wake-up policy
 * above. Returns how many it took; 0 means closed and empty.
 */
size_t conn_queue_pop_many(conn_queue *q, conn_item *out, size_t max, unsigned consumers,
                           uint64_t service_ns, uint64_t service_cpu_ns);

/*
 * For a producer that need not keep the queue full: waits while `mark` or more items are
 * queued and the queue is open, at most timeout_ms. Connections are as well off in the
 * kernel's backlog as in the queue, and a producer that pulls them only when the queue runs
 * low sleeps once per batch of pops rather than once each time the backlog runs dry. While it
 * waits it wakes a consumer if the awake ones are stuck (as conn_queue_nudge). Returns 1 when
 * fewer than mark are queued or the queue is closed, 0 when the time ran out first.
 */
int conn_queue_wait_below(conn_queue *q, size_t mark, int timeout_ms);

/* For the producer's idle moments: wakes a consumer when items wait and the awake consumers
 * have taken nothing for QUEUE_STALLED_AFTER_NS (they are busy with slow clients). Returns the
 * milliseconds after which to call again, or -1 when the queue is empty. */
int conn_queue_nudge(conn_queue *q);

/* No more pushes: wakes every waiter; pushers get -1, poppers drain what is left then -1. */
void conn_queue_close(conn_queue *q);

/* The most items ever queued at once. */
size_t conn_queue_high_water(conn_queue *q);

/* The items queued right now (for the metrics page: it takes the lock). */
size_t conn_queue_depth(conn_queue *q);

#ifdef __cplusplus
}
#endif
#endif
