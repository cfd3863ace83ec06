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

/* Lock rules: every field but settle_ns (set once) is read and written with lock held; wake
 * is signalled on a stop, and on an ask when the thread is idle (waiting for one). */
struct mem_trimmer {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    pthread_t thread;
    int started, asked, stopping, idle;
    uint64_t asked_ns; /* when the standing ask was made */
    uint64_t settle_ns;
    unsigned long trims;
};

mem_trimmer *mem_trimmer_create(uint64_t settle_ns, char *err, size_t errlen)
{
    mem_trimmer *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "memory trimmer: out of memory");
        return NULL;
    }
    t->settle_ns = settle_ns;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

/* Lock held: sleeps until until_ns (CLOCK_MONOTONIC) or a signal. */
static void wait_until(mem_trimmer *t, uint64_t until_ns)
{
    struct timespec ts = {(time_t)(until_ns / 1000000000u), (long)(until_ns % 1000000000u)};
    pthread_cond_timedwait(&t->wake, &t->lock, &ts);
}

/* Lock held: whether the standing ask has stood for settle_ns (a stop, or the ask called off,
 * ends the wait with 0). */
static int do_settle(mem_trimmer *t)
{
    while (!t->stopping && t->asked) {
        uint64_t due = t->asked_ns + t->settle_ns, now = clock_now_ns();
        if (now >= due)
            return 1;
        wait_until(t, due);
    }
    return 0;
}

static void *trimmer_main(void *arg)
{
    mem_trimmer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        t->idle = 1;
        while (!t->asked && !t->stopping)
            pthread_cond_wait(&t->wake, &t->lock);
        t->idle = 0;
        if (!do_settle(t))
            continue;
        t->asked = 0;
        pthread_mutex_unlock(&t->lock);
        malloc_trim(0);
        pthread_mutex_lock(&t->lock);
        t->trims++;
        /* The interval: asks made meanwhile wait for its end. */
        for (uint64_t until = clock_now_ns() + MEM_TRIM_INTERVAL_NS;
             !t->stopping && clock_now_ns() < until;)
            wait_until(t, until);
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
    t->asked_ns = clock_now_ns(); /* a later ask settles anew */
    if (t->idle)
        pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (rc != 0) {
        log_warn("memory trimmer: start thread: %s (trimming in this one)", strerror(rc));
        malloc_trim(0);
        pthread_mutex_lock(&t->lock);
        t->asked = 0;
        t->trims++;
        pthread_mutex_unlock(&t->lock);
    }
}

/* The surge is back: what a trim would give away now is about to be taken again. */
static void call_off(mem_trimmer *t)
{
    pthread_mutex_lock(&t->lock);
    t->asked = 0; /* the thread sees it when its settling wait ends */
    pthread_mutex_unlock(&t->lock);
}

unsigned long mem_trimmer_trims(mem_trimmer *t)
{
    pthread_mutex_lock(&t->lock);
    unsigned long trims = t->trims;
    pthread_mutex_unlock(&t->lock);
    return trims;
}

void mem_trim_note(mem_trimmer *t, mem_surge *s, size_t live)
{
    if (live > s->peak)
        s->peak = live;
    if (s->peak >= MEM_TRIM_PEAK_MIN)
        s->on = 1;
    if (t == NULL)
        return;
    if (s->asked_at_peak && live >= MEM_TRIM_PEAK_MIN && live * 2 >= s->asked_at_peak) {
        s->asked_at_peak = 0;
        if (t->settle_ns)
            call_off(t);
    }
    if (!s->on || live * 4 > s->peak)
        return;
    s->asked_at_peak = s->peak;
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
