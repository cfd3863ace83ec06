/* pool_policy.c -- the pool's hand-off policy, stated once: when to wake a worker, how much a worker takes, when the accept thread refills the queue or serves a connection itself. */
#include "pool_policy.h"

/* Whether an item mostly waits: its wall time at least 4x its CPU time, more than
 * preemption alone explains. */
static int mostly_waits(const pool_view *v)
{
    return v->service_ns >= 4 * v->service_cpu_ns;
}

/* How many workers can usefully be awake at once: CPUs x (wall time / CPU time) per item for
 * work that mostly waits, one per CPU for work that computes (its wall time over its CPU time
 * is then preemption, which more workers would only make longer). */
static unsigned useful_awake(const pool_view *v)
{
    uint64_t per_cpu = v->service_ns / (v->service_cpu_ns ? v->service_cpu_ns : 1);
    uint64_t useful = (uint64_t)v->cpus * (mostly_waits(v) && per_cpu > 0 ? per_cpu : 1);
    return useful > v->consumers ? v->consumers : (unsigned)useful;
}

int pool_should_wake(const pool_view *v)
{
    if (v->queued == 0 || v->asleep == 0)
        return 0;
    unsigned awake = v->consumers > v->asleep ? v->consumers - v->asleep : 0;
    if (awake == 0 || v->since_pop_ns > POOL_STALLED_AFTER_NS)
        return 1; /* nobody awake, or the awake ones are stuck */
    if (awake >= useful_awake(v))
        return 0;
    uint64_t backlog_ns = v->queued * v->service_ns / awake;
    if (mostly_waits(v))
        return backlog_ns > POOL_WAKE_AFTER_NS;
    if (v->service_cpu_ns >= POOL_SPREAD_CPU_NS)
        return backlog_ns > POOL_CPU_BACKLOG_NS; /* computes */
    return backlog_ns > POOL_LONG_BACKLOG_NS;
}

size_t pool_share(size_t queued, unsigned consumers, size_t max)
{
    size_t share = consumers > 1 ? (queued + consumers - 1) / consumers : queued;
    return share < max ? share : max;
}

uint64_t pool_average(uint64_t average, uint64_t sample)
{
    return average - average / 8 + sample / 8;
}

pool_refill pool_refill_for(size_t capacity, size_t workers, size_t batch, size_t backlog,
                            int block)
{
    size_t low = 2 * workers > 4 * batch ? 2 * workers : 4 * batch;
    size_t high = 2 * low;
    if (capacity > batch && high > capacity - batch)
        high = capacity - batch;
    if (high > capacity)
        high = capacity;
    if (low > high)
        low = high;
    pool_refill r = {block && backlog >= 4 * high, low, high};
    return r;
}

int pool_may_serve_here(pool_serve_budget *b, uint64_t now_ns)
{
    if (b->window_start_ns == 0 || now_ns - b->window_start_ns >= POOL_SERVE_WINDOW_NS) {
        b->window_start_ns = now_ns;
        b->served_ns = 0;
    }
    return b->served_ns < POOL_SERVE_WINDOW_NS / 2;
}

void pool_served_here(pool_serve_budget *b, uint64_t spent_ns)
{
    b->served_ns += spent_ns;
}
