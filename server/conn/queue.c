/* queue.c -- the bounded, lock-protected hand-off of accepted connections to pool workers. */
#include "queue.h"

#include "clock.h"
#include "cpus.h"
#include "pool_policy.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The do_ functions run with q->lock held by the calling thread: this checks it. */
#define ASSERT_HELD(q) assert((q)->held && pthread_equal((q)->holder, pthread_self()))

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
    q->service_ns = POOL_WAKE_AFTER_NS; /* unknown until measured: assume slow, wake eagerly */
    q->service_cpu_ns = 1;
    q->cpus = (unsigned)cpus_usable();
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

int conn_queue_reserve_waiters(conn_queue *q, unsigned n, char *err, size_t errlen)
{
    q->waiters = calloc(n, sizeof(*q->waiters));
    if (q->waiters == NULL && n > 0) {
        snprintf(err, errlen, "queue waiters for %u consumers: out of memory", n);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        pthread_cond_init(&q->waiters[i].cond, NULL);
        q->waiters[i].next = q->spare;
        q->spare = &q->waiters[i];
    }
    q->n_waiters = n;
    return 0;
}

void conn_queue_destroy(conn_queue *q)
{
    for (unsigned i = 0; i < q->n_waiters; i++)
        pthread_cond_destroy(&q->waiters[i].cond);
    free(q->waiters);
    q->waiters = NULL;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->ring);
    q->ring = NULL;
}

static void queue_lock(conn_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->holder = pthread_self();
    q->held = 1;
}

/* Releases the lock, then wakes the consumers the policy chose while it was held: a consumer
 * signalled under the lock would wake only to block on it (glibc's condvars do not hand the
 * mutex over), a futex wait and wake more per hand-off. The consumer registered its wait
 * under the lock, so the late signal still reaches it. */
static void queue_unlock(conn_queue *q)
{
    ASSERT_HELD(q);
    unsigned due = q->signals_due, n_due = q->n_due;
    queue_waiter *waiters[QUEUE_DUE_MAX];
    /* The pointers, not what they point at. */
    memcpy(waiters, q->due, n_due * sizeof(waiters[0])); // NOLINT(bugprone-sizeof-expression)
    q->signals_due = 0;
    q->n_due = 0;
    q->held = 0;
    pthread_mutex_unlock(&q->lock);
    while (due-- > 0)
        pthread_cond_signal(&q->not_empty);
    /* A waiter lives as long as the queue: if its consumer has meanwhile woken on its own,
     * this signal is at worst a spurious wake-up of whoever waits on it now. */
    for (unsigned i = 0; i < n_due; i++)
        pthread_cond_signal(&waiters[i]->cond);
}

/* Lock held. Sends now the wake-ups decided but not yet sent. */
static void do_send_due(conn_queue *q)
{
    ASSERT_HELD(q);
    for (; q->signals_due > 0; q->signals_due--)
        pthread_cond_signal(&q->not_empty);
    for (unsigned i = 0; i < q->n_due; i++)
        pthread_cond_signal(&q->due[i]->cond);
    q->n_due = 0;
}

/* Lock held. Wakes the consumer that went idle last (or, for a consumer with no waiter of
 * its own, one on not_empty) once the lock is released. */
static void do_wake_one(conn_queue *q)
{
    ASSERT_HELD(q);
    q->wakeups_pending++;
    queue_waiter *w = q->idle_top;
    if (w == NULL) {
        q->signals_due++; /* sent by queue_unlock */
        return;
    }
    q->idle_top = w->next;
    w->woken = 1;
    if (q->n_due == QUEUE_DUE_MAX)
        pthread_cond_signal(&w->cond);
    else
        q->due[q->n_due++] = w;
}

/* Lock held. Waits on cond (until the absolute CLOCK_MONOTONIC deadline if one is given) and
 * holds the lock again on return. Returns pthread_cond_*wait's result. */
static int do_wait(conn_queue *q, pthread_cond_t *cond, const struct timespec *deadline)
{
    ASSERT_HELD(q);
    do_send_due(q); /* a producer about to wait for room */
    q->held = 0;
    int rc = deadline ? pthread_cond_timedwait(cond, &q->lock, deadline)
                      : pthread_cond_wait(cond, &q->lock);
    q->holder = pthread_self();
    q->held = 1;
    return rc;
}

/* Lock held. A consumer's wait, on a waiter of its own when one is spare. */
static void do_wait_for_items(conn_queue *q)
{
    ASSERT_HELD(q);
    queue_waiter *w = q->spare;
    if (w != NULL) {
        q->spare = w->next;
        w->woken = 0;
        w->next = q->idle_top;
        q->idle_top = w;
    }
    q->idle_consumers++;
    do_wait(q, w ? &w->cond : &q->not_empty, NULL);
    q->idle_consumers--;
    if (w == NULL || w->woken) {
        if (q->wakeups_pending > 0)
            q->wakeups_pending--;
    } else { /* woken by close, or spuriously: still on the idle stack */
        queue_waiter **link = &q->idle_top;
        while (*link != w)
            link = &(*link)->next;
        *link = w->next;
    }
    if (w != NULL) {
        w->next = q->spare;
        q->spare = w;
    }
}

/* Lock held. How long the awake consumers have shown no sign of progress: since one last
 * took items or was woken (a consumer woken but not yet running is not stuck; counted from
 * the last pop alone, each item of a batch pushed after a quiet spell woke another). now_ns
 * may be a little older than those marks (an item's accept time): no time then. */
static uint64_t do_since_progress(const conn_queue *q, uint64_t now_ns)
{
    uint64_t mark = q->last_pop_ns > q->last_wake_ns ? q->last_pop_ns : q->last_wake_ns;
    return now_ns > mark ? now_ns - mark : 0;
}

/* Lock held. When the awake consumers would count as stuck (pool_should_wake), a
 * millisecond past it: when a producer's timed wait should end to check them. Once they
 * count as stuck (and nobody was left to wake), a whole period later. */
static uint64_t do_stall_check_at(const conn_queue *q, uint64_t now_ns)
{
    uint64_t since = do_since_progress(q, now_ns);
    uint64_t left = since < POOL_STALLED_AFTER_NS ? POOL_STALLED_AFTER_NS - since
                                                  : POOL_STALLED_AFTER_NS;
    return now_ns + left + 1000000u;
}

/* Lock held. Wakes one sleeping consumer when the policy says it helps. */
static void do_wake_if_needed(conn_queue *q, uint64_t now_ns)
{
    ASSERT_HELD(q);
    unsigned asleep = q->idle_consumers > q->wakeups_pending
                          ? q->idle_consumers - q->wakeups_pending : 0;
    pool_view v = {q->count, q->consumers, asleep, q->service_ns, q->service_cpu_ns,
                   do_since_progress(q, now_ns), q->cpus};
    if (pool_should_wake(&v)) {
        do_wake_one(q);
        if (now_ns > q->last_wake_ns)
            q->last_wake_ns = now_ns;
    }
}

/* A CLOCK_MONOTONIC time (clock_now_ns) for the timed waits on not_full. */
static struct timespec deadline_at(uint64_t ns)
{
    struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return t;
}

/* Lock held. Waits on not_full until a consumer leaves fewer than mark items, or until the
 * deadline. Returns pthread_cond_timedwait's result. */
static int do_wait_for_room(conn_queue *q, size_t mark, const struct timespec *deadline)
{
    ASSERT_HELD(q);
    if (mark > q->wake_producers_below)
        q->wake_producers_below = mark;
    q->waiting_producers++;
    int rc = do_wait(q, &q->not_full, deadline);
    q->waiting_producers--;
    return rc;
}

/* Lock held, after consumers took items: lets waiting producers know once there is room. */
static void do_signal_room(conn_queue *q)
{
    ASSERT_HELD(q);
    if (q->waiting_producers > 0 && q->count < q->wake_producers_below) {
        q->wake_producers_below = 0; /* one signal per wait: the waiters set it again */
        pthread_cond_broadcast(&q->not_full);
    }
}

/* Lock held, queue not full and open. */
static void do_append(conn_queue *q, const conn_item *item)
{
    ASSERT_HELD(q);
    assert(q->count < q->capacity && !q->closed);
    q->ring[(q->head + q->count) % q->capacity] = *item;
    q->count++;
    if (q->count > q->high_water)
        q->high_water = q->count;
    /* accepted_ns is "now" closely enough, and costs no clock read under the lock. */
    do_wake_if_needed(q, item->accepted_ns);
}

/* Lock held. Nothing queued, and every consumer asleep with no wake-up on its way. */
static int do_all_asleep(conn_queue *q)
{
    ASSERT_HELD(q);
    return q->count == 0 && q->wakeups_pending == 0 && q->idle_consumers >= q->consumers;
}

static size_t push(conn_queue *q, const conn_item *items, size_t n, int wait, size_t *queued,
                   int *idle)
{
    size_t pushed = 0;
    queue_lock(q);
    if (idle != NULL && (*idle = do_all_asleep(q)))
        n = 0;
    while (pushed < n && !q->closed) {
        if (q->count == q->capacity) {
            if (!wait)
                break;
            /* Timed, so that stuck consumers while others sleep are noticed (as in
             * conn_queue_wait_below) even though nothing is appended. */
            struct timespec deadline = deadline_at(do_stall_check_at(q, clock_now_ns()));
            if (do_wait_for_room(q, q->capacity, &deadline) == ETIMEDOUT)
                do_wake_if_needed(q, clock_now_ns());
            continue;
        }
        do_append(q, &items[pushed++]);
    }
    if (queued != NULL)
        *queued = q->count;
    queue_unlock(q);
    return pushed;
}

size_t conn_queue_push_many(conn_queue *q, const conn_item *items, size_t n, int wait,
                            size_t *queued)
{
    return push(q, items, n, wait, queued, NULL);
}

size_t conn_queue_push_unless_idle(conn_queue *q, const conn_item *items, size_t n, int wait,
                                   size_t *queued, int *idle)
{
    return push(q, items, n, wait, queued, idle);
}

size_t conn_queue_pop_many(conn_queue *q, conn_item *out, size_t max, unsigned consumers,
                           uint64_t service_ns, uint64_t service_cpu_ns)
{
    queue_lock(q);
    q->consumers = consumers > 0 ? consumers : 1;
    if (service_ns > 0) {
        q->service_ns = pool_average(q->service_ns, service_ns);
        q->service_cpu_ns = pool_average(q->service_cpu_ns, service_cpu_ns);
    }
    while (q->count == 0 && !q->closed)
        do_wait_for_items(q);
    size_t take = pool_share(q->count, q->consumers, max);
    for (size_t i = 0; i < take; i++) {
        out[i] = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
    }
    q->count -= take;
    if (take > 0) {
        q->last_pop_ns = clock_now_ns();
        do_signal_room(q);
    }
    queue_unlock(q);
    return take;
}

int conn_queue_wait_below(conn_queue *q, size_t mark, int timeout_ms)
{
    uint64_t end_ns = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    queue_lock(q);
    while (q->count >= mark && !q->closed) {
        uint64_t now = clock_now_ns();
        if (now >= end_ns)
            break;
        /* Up by the time the consumers would count as stuck, to check them. */
        uint64_t check = do_stall_check_at(q, now);
        struct timespec deadline = deadline_at(check < end_ns ? check : end_ns);
        if (do_wait_for_room(q, mark, &deadline) == ETIMEDOUT)
            do_wake_if_needed(q, clock_now_ns());
    }
    int below = q->count < mark || q->closed;
    queue_unlock(q);
    return below;
}

int conn_queue_nudge(conn_queue *q)
{
    queue_lock(q);
    uint64_t now = clock_now_ns();
    if (q->count > 0)
        do_wake_if_needed(q, now);
    int again_ms = q->count > 0 ? (int)((do_stall_check_at(q, now) - now) / 1000000u) : -1;
    queue_unlock(q);
    return again_ms;
}

void conn_queue_close(conn_queue *q)
{
    queue_lock(q);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    for (queue_waiter *w = q->idle_top; w != NULL; w = w->next)
        pthread_cond_signal(&w->cond);
    pthread_cond_broadcast(&q->not_full);
    queue_unlock(q);
}

size_t conn_queue_high_water(conn_queue *q)
{
    queue_lock(q);
    size_t hw = q->high_water;
    queue_unlock(q);
    return hw;
}

size_t conn_queue_depth(conn_queue *q)
{
    queue_lock(q);
    size_t count = q->count;
    queue_unlock(q);
    return count;
}
