/* handoff.c -- how a loadgen thread hands each finished interval's figures to the main thread. */
#include "handoff.h"

#include <stdlib.h>

int handoff_init(handoff *h)
{
    h->posted_head = h->posted_tail = h->spare = NULL;
    h->recording = -1;
    h->finished = 0;
    return pthread_mutex_init(&h->lock, NULL) == 0 ? 0 : -1;
}

static void free_list(lg_slice *s)
{
    while (s) {
        lg_slice *next = s->next;
        lg_stats_destroy(&s->stats);
        free(s);
        s = next;
    }
}

void handoff_destroy(handoff *h)
{
    free_list(h->posted_head);
    free_list(h->spare);
    h->posted_head = h->posted_tail = h->spare = NULL;
    pthread_mutex_destroy(&h->lock);
}

/* Appends s to the posted list; the lock is held. */
static void do_post(handoff *h, lg_slice *s)
{
    s->next = NULL;
    if (h->posted_tail)
        h->posted_tail->next = s;
    else
        h->posted_head = s;
    h->posted_tail = s;
}

static lg_slice *new_slice(void)
{
    lg_slice *s = calloc(1, sizeof(*s));
    if (s && lg_stats_init(&s->stats) != 0) {
        free(s);
        s = NULL;
    }
    return s;
}

lg_slice *handoff_swap(handoff *h, lg_slice *full, int64_t next_index)
{
    pthread_mutex_lock(&h->lock);
    lg_slice *fresh = h->spare;
    if (fresh)
        h->spare = fresh->next;
    pthread_mutex_unlock(&h->lock);
    if (!fresh && !(fresh = new_slice())) /* allocate outside the lock */
        return NULL;
    fresh->index = next_index;
    fresh->next = NULL;
    pthread_mutex_lock(&h->lock);
    if (full)
        do_post(h, full);
    h->recording = next_index;
    pthread_mutex_unlock(&h->lock);
    return fresh;
}

void handoff_finish(handoff *h, lg_slice *last)
{
    pthread_mutex_lock(&h->lock);
    if (last)
        do_post(h, last);
    h->finished = 1;
    pthread_mutex_unlock(&h->lock);
}

lg_slice *handoff_take(handoff *h, int64_t upto)
{
    pthread_mutex_lock(&h->lock);
    lg_slice *s = h->posted_head;
    if (s && s->index <= upto) {
        h->posted_head = s->next;
        if (!h->posted_head)
            h->posted_tail = NULL;
    } else {
        s = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    return s;
}

void handoff_give_back(handoff *h, lg_slice *s)
{
    lg_stats_reset(&s->stats);
    pthread_mutex_lock(&h->lock);
    s->next = h->spare;
    h->spare = s;
    pthread_mutex_unlock(&h->lock);
}

int handoff_passed(handoff *h, int64_t index)
{
    pthread_mutex_lock(&h->lock);
    int passed = (h->finished || h->recording > index) &&
                 (!h->posted_head || h->posted_head->index > index);
    pthread_mutex_unlock(&h->lock);
    return passed;
}

int64_t handoff_oldest(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    int64_t index = h->posted_head ? h->posted_head->index : INT64_MAX;
    pthread_mutex_unlock(&h->lock);
    return index;
}

int handoff_finished(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    int finished = h->finished;
    pthread_mutex_unlock(&h->lock);
    return finished;
}
