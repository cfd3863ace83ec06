/* stats.c -- the server's counters, shared by threads and by forked processes alike. */
#include "stats.h"

#include "clock.h"

#include <stdio.h>
#include <sys/mman.h>

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

void server_stats_format_summary(server_stats *stats, unsigned extras, char *buf, size_t len)
{
    int n = snprintf(buf, len,
             "summary: accepted=%llu greeted=%llu rejected=%llu failed=%llu queue_high_water=%llu",
             (unsigned long long)server_stats_get(&stats->accepted),
             (unsigned long long)server_stats_get(&stats->greeted),
             (unsigned long long)server_stats_get(&stats->rejected),
             (unsigned long long)server_stats_get(&stats->failed),
             (unsigned long long)server_stats_get(&stats->queue_high_water));
    if ((extras & SUMMARY_DENIED) && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " denied=%llu",
                      (unsigned long long)server_stats_get(&stats->denied));
    if ((extras & SUMMARY_TLS) && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " tls_failed=%llu",
                 (unsigned long long)server_stats_get(&stats->tls_failed));
}
