/* stats.c -- the server's counters, shared by threads and by forked processes alike. */
#include "stats.h"

#include "clock.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>

/* server_stats_fold walks the block as an array: every field must be one _Atomic uint64_t
 * (alignment padding, zero on both sides, folds as nothing). */
_Static_assert(sizeof(server_stats) % sizeof(_Atomic uint64_t) == 0,
               "server_stats holds only _Atomic uint64_t counters");

server_stats *server_stats_create(void)
{
    void *block = mmap(NULL, sizeof(server_stats), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return block == MAP_FAILED ? NULL : block; /* anonymous mappings start zeroed */
}

void server_stats_destroy(server_stats *stats)
{
    if (stats)
        munmap(stats, sizeof(*stats));
}

void server_stats_observe_duration(server_stats *stats, uint64_t accepted_ns)
{
    static const uint64_t bounds[STATS_DURATION_BUCKETS - 1] = STATS_DURATION_BOUNDS_NS;
    uint64_t now = clock_now_ns(), took = now > accepted_ns ? now - accepted_ns : 0;
    size_t i = 0;
    while (i < STATS_DURATION_BUCKETS - 1 && took > bounds[i])
        i++;
    server_stats_add(&stats->duration_buckets[i], 1);
    server_stats_add(&stats->duration_sum_ns, took);
}

void server_stats_max(_Atomic uint64_t *counter, uint64_t value)
{
    uint64_t seen = atomic_load_explicit(counter, memory_order_relaxed);
    while (seen < value &&
           !atomic_compare_exchange_weak_explicit(counter, &seen, value, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

void server_stats_fold(server_stats *into, server_stats *from, server_stats *seen)
{
    _Atomic uint64_t *dst = (_Atomic uint64_t *)into, *src = (_Atomic uint64_t *)from;
    _Atomic uint64_t *old = (_Atomic uint64_t *)seen;
    size_t high_water = offsetof(server_stats, queue_high_water) / sizeof(*dst);
    /* Backwards, so `accepted` (the first field) is read last: every outcome follows its
     * accept, so a fold taken while connections are served shows them in flight, never a
     * count that looks finished and is not. */
    for (size_t i = sizeof(server_stats) / sizeof(*dst); i-- > 0;) {
        uint64_t now = server_stats_get(&src[i]), before = server_stats_get(&old[i]);
        if (i == high_water)
            server_stats_max(&dst[i], now);
        else if (now != before)
            server_stats_add(&dst[i], now - before); /* modular: a gauge that went down folds too */
        atomic_store_explicit(&old[i], now, memory_order_relaxed);
    }
}

uint64_t server_stats_outcomes(server_stats *s)
{
    return server_stats_get(&s->greeted) + server_stats_get(&s->rejected) + server_stats_get(&s->failed) +
           server_stats_get(&s->denied);
}

void server_stats_format_summary(server_stats *stats, unsigned extras, char *buf, size_t len)
{
    int n = snprintf(buf, len,
             "summary: accepted=%llu greeted=%llu rejected=%llu failed=%llu queue_high_water=%llu",
             (unsigned long long)server_stats_get(&stats->accepted),
             (unsigned long long)server_stats_get(&stats->greeted),
             (unsigned long long)server_stats_get(&stats->rejected),
             (unsigned long long)server_stats_get(&stats->failed),
             (unsigned long long)server_stats_get(&stats->queue_high_water));
    /* The counters shown only where they can be other than 0, in this order. */
    const struct {
        unsigned when;
        const char *name;
        _Atomic uint64_t *counter;
    } extra[] = {{SUMMARY_DENIED, "denied", &stats->denied},
                 {SUMMARY_TLS, "tls_failed", &stats->tls_failed},
                 {SUMMARY_PROXY, "proxy_failed", &stats->proxy_failed},
                 {SUMMARY_RATE, "rate_limited", &stats->rate_limited},
                 {SUMMARY_UDP, "too_small", &stats->too_small}};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        if ((extras & extra[i].when) && n > 0 && (size_t)n < len)
            n += snprintf(buf + n, len - (size_t)n, " %s=%llu", extra[i].name,
                          (unsigned long long)server_stats_get(extra[i].counter));
    }
}
