/* queue.c -- the bounded, lock-protected hand-off of accepted connections to pool workers. */
#include "queue.h"

#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int conn_queue_init(conn_queue *q, size_t capacity, char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    if (capacity == 0) {
        snprintf(err, errlen, "queue capacity must be at least 1");
        return -1;
    }
    q->ring = calloc(capacity, sizeof(*q->ring));
    if (q->ring == NULL) {
        snprintf(err, errlen, "queue of %zu connections: out of memory", capacity);
        return -1;
    }
    q->capacity = capacity;
    q->consumers = 1;
    q->service_ns = QUEUE_WAKE_AFTER_NS; /* unknown until measured: assume slow, wake eagerly */
    q->service_cpu_ns = 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    q->cpus = cpus > 0 ? (unsigned)cpus : 1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    /* Producers wait on not_full with a deadline (conn_queue_wait_below): monotonic time. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    return 0;
}

void conn_queue_destroy(conn_queue *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->ring);
    q->ring = NULL;
}

/* Lock held. How many consumers can usefully be awake at once (see queue.h). */
static unsigned do_useful_awake(const conn_queue *q)
{
    uint64_t per_cpu = q->service_ns / (q->service_cpu_ns ? q->service_cpu_ns : 1);
    uint64_t useful = (uint64_t)q->cpus * (per_cpu > 0 ? per_cpu : 1);
    return useful > q->consumers ? q->consumers : (unsigned)useful;
}

/* Lock held. Wakes one sleeping consumer when that helps (the policy in queue.h). Returns 1
 * when it woke one. */
static int do_wake_if_needed(conn_queue *q, uint64_t now_ns)
{
    if (q->count == 0 || q->idle_consumers <= q->wakeups_pending)
        return 0;
    unsigned idle = q->idle_consumers - q->wakeups_pending;
    unsigned awake = q->consumers > idle ? q->consumers - idle : 0;
    int needed;
    /* now_ns may be a little older than last_pop_ns (an item's accept time): not stalled. */
    int stalled = now_ns > q->last_pop_ns && now_ns - q->last_pop_ns > QUEUE_STALLED_AFTER_NS;
    if (awake == 0 || stalled)
        needed = 1; /* nobody awake, or the awake ones are stuck */
    else if (awake >= do_useful_awake(q))
        needed = 0;
    else {
        uint64_t backlog_ns = q->count * q->service_ns / awake;
        int worth_spreading = q->service_ns >= 4 * q->service_cpu_ns ||
                              q->service_cpu_ns >= QUEUE_SPREAD_CPU_NS;
        needed = backlog_ns > (worth_spreading ? QUEUE_WAKE_AFTER_NS : QUEUE_LONG_BACKLOG_NS);
    }
    if (needed) {
        q->wakeups_pending++;
        pthread_cond_signal(&q->not_empty);
    }
    return needed;
}

/* CLOCK_MONOTONIC now + ms, for the timed waits on not_full. */
static struct timespec deadline_after_ms(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Lock held. Waits on not_full until a consumer leaves fewer than mark items, or until the
 * absolute CLOCK_MONOTONIC deadline if one is given. Returns pthread_cond_*wait's result. */
static int do_wait_for_room(conn_queue *q, size_t mark, const struct timespec *deadline)
{
    if (mark > q->wake_producers_below)
        q->wake_producers_below = mark;
    q->waiting_producers++;
    int rc = deadline ? pthread_cond_timedwait(&q->not_full, &q->lock, deadline)
                      : pthread_cond_wait(&q->not_full, &q->lock);
    q->waiting_producers--;
    return rc;
}

/* Lock held, after consumers took items: lets waiting producers know once there is room. */
static void do_signal_room(conn_queue *q)
{
    if (q->waiting_producers > 0 && q->count < q->wake_producers_below) {
        q->wake_producers_below = 0; /* one signal per wait: the waiters set it again */
        pthread_cond_broadcast(&q->not_full);
    }
}

/* Lock held, queue not full and open. */
static void do_append(conn_queue *q, const conn_item *item)
{
    q->ring[(q->head + q->count) % q->capacity] = *item;
    q->count++;
    if (q->count > q->high_water)
        q->high_water = q->count;
    /* accepted_ns is "now" closely enough, and costs no clock read under the lock. */
    do_wake_if_needed(q, item->accepted_ns);
}

int conn_queue_push(conn_queue *q, const conn_item *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == q->capacity && !q->closed)
        do_wait_for_room(q, q->capacity, NULL);
    int rc = -1;
    if (!q->closed) {
        do_append(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int conn_queue_try_push(conn_queue *q, const conn_item *item)
{
    pthread_mutex_lock(&q->lock);
    int rc;
    if (q->closed)
        rc = -1;
    else if (q->count == q->capacity)
        rc = 1;
    else {
        do_append(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

size_t conn_queue_push_many(conn_queue *q, const conn_item *items, size_t n, int wait,
                            size_t *queued)
{
    size_t pushed = 0;
    pthread_mutex_lock(&q->lock);
    while (pushed < n && !q->closed) {
        if (q->count == q->capacity) {
            if (!wait)
                break;
            /* Timed, so that consumers stuck with slow clients while others sleep are
             * noticed (as in conn_queue_wait_below) even though nothing is appended. */
            struct timespec deadline = deadline_after_ms(QUEUE_STALLED_AFTER_MS);
            if (do_wait_for_room(q, q->capacity, &deadline) == ETIMEDOUT)
                do_wake_if_needed(q, clock_now_ns());
            continue;
        }
        do_append(q, &items[pushed++]);
    }
    if (queued != NULL)
        *queued = q->count;
    pthread_mutex_unlock(&q->lock);
    return pushed;
}

size_t conn_queue_pop_many(conn_queue *q, conn_item *out, size_t max, unsigned consumers,
                           uint64_t service_ns, uint64_t service_cpu_ns)
{
    pthread_mutex_lock(&q->lock);
    q->consumers = consumers > 0 ? consumers : 1;
    if (service_ns > 0) { /* moving averages over about eight batches */
        q->service_ns = q->service_ns - q->service_ns / 8 + service_ns / 8;
        q->service_cpu_ns = q->service_cpu_ns - q->service_cpu_ns / 8 + service_cpu_ns / 8;
    }
    while (q->count == 0 && !q->closed) {
        q->idle_consumers++;
        pthread_cond_wait(&q->not_empty, &q->lock);
        q->idle_consumers--;
        if (q->wakeups_pending > 0)
            q->wakeups_pending--;
    }
    size_t share = consumers > 1 ? (q->count + consumers - 1) / consumers : q->count;
    size_t take = share < max ? share : max;
    for (size_t i = 0; i < take; i++) {
        out[i] = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
    }
    q->count -= take;
    if (take > 0) {
        q->last_pop_ns = clock_now_ns();
        do_signal_room(q);
    }
    pthread_mutex_unlock(&q->lock);
    return take;
}

int conn_queue_wait_below(conn_queue *q, size_t mark, int timeout_ms)
{
    struct timespec deadline = deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&q->lock);
    while (q->count >= mark && !q->closed) {
        if (do_wait_for_room(q, mark, &deadline) == ETIMEDOUT)
            break;
    }
    int below = q->count < mark || q->closed;
    if (!below) /* the consumers took nothing for a while: they may be stuck */
        do_wake_if_needed(q, clock_now_ns());
    pthread_mutex_unlock(&q->lock);
    return below;
}

int conn_queue_nudge(conn_queue *q)
{
    pthread_mutex_lock(&q->lock);
    if (q->count > 0)
        do_wake_if_needed(q, clock_now_ns());
    int again_ms = q->count > 0 ? QUEUE_STALLED_AFTER_MS : -1;
    pthread_mutex_unlock(&q->lock);
    return again_ms;
}

int conn_queue_pop(conn_queue *q, conn_item *out)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed) {
        q->idle_consumers++;
        pthread_cond_wait(&q->not_empty, &q->lock);
        q->idle_consumers--;
        if (q->wakeups_pending > 0)
            q->wakeups_pending--;
    }
    int rc = -1;
    if (q->count > 0) {
        *out = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        do_signal_room(q);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void conn_queue_close(conn_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t conn_queue_high_water(conn_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t hw = q->high_water;
    pthread_mutex_unlock(&q->lock);
    return hw;
}

size_t conn_queue_depth(conn_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t count = q->count;
    pthread_mutex_unlock(&q->lock);
    return count;
}
