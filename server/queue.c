/* queue.c -- the bounded, lock-protected hand-off of accepted connections to pool workers. */
#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
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

/* Lock held, queue not full and open. */
static void do_append(conn_queue *q, const conn_item *item)
{
    q->ring[(q->head + q->count) % q->capacity] = *item;
    q->count++;
    if (q->count > q->high_water)
        q->high_water = q->count;
    /* A worker that is awake comes back for this item by itself; wake a sleeping one only
     * when no earlier wake-up is still on its way to claim it. */
    if (q->idle_consumers > q->wakeups_pending) {
        q->wakeups_pending++;
        pthread_cond_signal(&q->not_empty);
    }
}

int conn_queue_push(conn_queue *q, const conn_item *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == q->capacity && !q->closed) {
        q->waiting_producers++;
        pthread_cond_wait(&q->not_full, &q->lock);
        q->waiting_producers--;
    }
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
        if (q->waiting_producers > 0)
            pthread_cond_signal(&q->not_full);
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
