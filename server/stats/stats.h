/* stats.h -- the server's counters, shared by threads and by forked processes alike. */
#ifndef GREETER_STATS_H
#define GREETER_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every field is a relaxed atomic: each counts independently and is only read as a whole
 * at the end (or by a progress reader that tolerates a moment's skew). The block lives in a
 * MAP_SHARED mapping, so children of the fork and prefork models count into the same place.
 * accepted == greeted + rejected + failed once the server has drained.
 */
/* Upper bounds (ns) of the buckets of the time from accept to close; one more bucket,
 * past the last bound, holds the rest (+Inf). From a bare greeting on loopback (tens of
 * microseconds) to a client held for the whole --io-timeout. */
#define STATS_DURATION_BOUNDS_NS                                                              \
    {100000u, 250000u, 500000u, 1000000u, 2500000u, 5000000u, 10000000u, 25000000u,          \
     50000000u, 100000000u, 250000000u, 500000000u, 1000000000u, 2500000000u, 5000000000u,  \
     10000000000u, 30000000000u}
#define STATS_DURATION_BUCKETS 18 /* the bounds above, and +Inf */

typedef struct server_stats {
    _Atomic uint64_t accepted; /* connections accept() returned */
    _Atomic uint64_t greeted;  /* whole greeting written */
    _Atomic uint64_t rejected; /* sent the busy message (or silently closed) by policy */
    _Atomic uint64_t failed;   /* the greeting could not be written: reset, timeout, ... */
    _Atomic uint64_t queue_high_water;
    _Atomic uint64_t tls_failed; /* handshakes that failed (also counted in failed) */
    _Atomic uint64_t denied;     /* closed unanswered by the --allow/--deny rules */
    _Atomic uint64_t proxy_failed; /* --proxy-protocol: no valid header, or an untrusted
                                    * source; closed unanswered (also counted in failed) */
    _Atomic uint64_t rate_limited; /* over --rate-per-ip, turned away (also counted in rejected) */
    _Atomic uint64_t too_small;    /* UDP: the greeting exceeds --udp-amplification times the
                                    * datagram, left unanswered (also counted in rejected) */
    _Atomic uint64_t accept_served; /* pool: served by the accept thread itself, no hand-off */
    /* Written where connections are served rather than where they are accepted, so on a
     * line of their own: the accept thread's increments do not bounce it (it writes here only
     * when it serves a connection itself, while every pool worker sleeps). */
    _Alignas(64) _Atomic uint64_t busy; /* workers serving a connection now (a gauge) */
    _Atomic uint64_t duration_sum_ns;   /* connection times (server_stats_observe_duration) */
    _Atomic uint64_t duration_buckets[STATS_DURATION_BUCKETS]; /* per bucket, not cumulative */
} server_stats;

/* Maps a zeroed block shared with future children; NULL on failure (errno set). */
server_stats *server_stats_create(void);
void server_stats_destroy(server_stats *stats);

static inline void server_stats_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline void server_stats_sub(_Atomic uint64_t *gauge, uint64_t n)
{
    atomic_fetch_sub_explicit(gauge, n, memory_order_relaxed);
}

static inline uint64_t server_stats_get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Counts one connection served (greeted or failed) into the connection-time histogram: the
 * time from accept to now, when the server's part is done (the connection closed, or shut
 * for writing while the server waits for the client's side of the close, which is the
 * client's time). Two relaxed increments. accepted_ns is CLOCK_MONOTONIC, as conn_item's. */
void server_stats_observe_duration(server_stats *stats, uint64_t accepted_ns);

/* Raises *counter to at least value. */
void server_stats_max(_Atomic uint64_t *counter, uint64_t value);

/* Adds to `into` what `from` counted since `seen` (a private copy the caller keeps per source,
 * zeroed at first), then updates `seen`: how a parent takes in the counts of a child process
 * that counts in a block of its own. Field by field, so a counter added later is folded too;
 * queue_high_water is raised, not added. */
void server_stats_fold(server_stats *into, server_stats *from, server_stats *seen);

/* Connections with an outcome: greeted + rejected + failed + denied (once drained, accepted). */
uint64_t server_stats_outcomes(server_stats *s);

/* Extra fields of the summary line, shown only when the feature is on. */
enum { SUMMARY_TLS = 1, SUMMARY_DENIED = 2, SUMMARY_PROXY = 4, SUMMARY_RATE = 8, SUMMARY_UDP = 16 };

/* Formats "summary: accepted=N greeted=N rejected=N failed=N queue_high_water=N", then
 * " denied=N", " tls_failed=N", " proxy_failed=N", " rate_limited=N" and " too_small=N" as
 * extras asks. accepted = greeted + rejected + failed + denied; tls_failed and proxy_failed
 * are parts of failed, rate_limited and too_small parts of rejected. */
void server_stats_format_summary(server_stats *stats, unsigned extras, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
