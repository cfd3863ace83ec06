/* mem_trim.c -- handing freed memory back to the kernel once a surge of connections is over. */
#include "mem_trim.h"

#include "clock.h"
#include "log.h"
#include "shutdown.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Lock rules: asked, stopping and started are read and written with lock held; wake is
 * signalled when either of the first two is set. */
struct mem_trimmer {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    pthread_t thread;
    int started, asked, stopping;
};

mem_trimmer *mem_trimmer_create(char *err, size_t errlen)
{
    mem_trimmer *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "memory trimmer: out of memory");
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

/* Lock held: sleeps until the interval after a trim is over, or a stop. */
static void do_rest(mem_trimmer *t)
{
    uint64_t until = clock_now_ns() + MEM_TRIM_INTERVAL_NS;
    struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &ts) != ETIMEDOUT)
        ;
}

static void *trimmer_main(void *arg)
{
    mem_trimmer *t = arg;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        while (!t->asked && !t->stopping)
            pthread_cond_wait(&t->wake, &t->lock);
        if (t->stopping)
            break;
        t->asked = 0;
        pthread_mutex_unlock(&t->lock);
        malloc_trim(0);
        pthread_mutex_lock(&t->lock);
        do_rest(t);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Asks for a trim, starting the thread the first time; without a thread, trims here. */
static void ask(mem_trimmer *t)
{
    pthread_mutex_lock(&t->lock);
    int rc = 0;
    if (!t->started && (rc = shutdown_thread_create(&t->thread, NULL, trimmer_main, t)) == 0) {
        pthread_setname_np(t->thread, "mem-trim");
        t->started = 1;
    }
    t->asked = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (rc != 0) {
        log_warn("memory trimmer: start thread: %s (trimming in this one)", strerror(rc));
        malloc_trim(0);
    }
}

void mem_trim_note(mem_trimmer *t, mem_surge *s, size_t live)
{
    if (live > s->peak)
        s->peak = live;
    if (s->peak >= MEM_TRIM_PEAK_MIN)
        s->on = 1;
    if (t == NULL || !s->on || live * 4 > s->peak)
        return;
    s->peak = live;
    s->on = live * 4 > MEM_TRIM_PEAK_MIN; /* a handful left: their memory is not worth more */
    ask(t);
}

void mem_trimmer_destroy(mem_trimmer *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    int started = t->started;
    pthread_mutex_unlock(&t->lock);
    if (started)
        pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
