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
typedef struct server_stats {
    _Atomic uint64_t accepted; /* connections accept() returned */
    _Atomic uint64_t greeted;  /* whole greeting written */
    _Atomic uint64_t rejected; /* sent the busy message (or silently closed) by policy */
    _Atomic uint64_t failed;   /* the greeting could not be written: reset, timeout, ... */
    _Atomic uint64_t queue_high_water;
    _Atomic uint64_t tls_failed; /* handshakes that failed (also counted in failed) */
    _Atomic uint64_t denied;     /* closed unanswered by the --allow/--deny rules */
} server_stats;

/* Maps a zeroed block shared with future children; NULL on failure (errno set). */
server_stats *server_stats_create(void);
void server_stats_destroy(server_stats *stats);

static inline void server_stats_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline uint64_t server_stats_get(_Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

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
enum { SUMMARY_TLS = 1, SUMMARY_DENIED = 2 };

/* Formats "summary: accepted=N greeted=N rejected=N failed=N queue_high_water=N", then
 * " denied=N" and " tls_failed=N" as extras asks. accepted = greeted + rejected + failed +
 * denied; tls_failed is a part of failed. */
void server_stats_format_summary(server_stats *stats, unsigned extras, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
