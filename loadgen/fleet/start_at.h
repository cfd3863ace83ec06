/* start_at.h -- waiting for --start-at, the wall-clock instant every shard of a fleet starts. */
#ifndef LOADGEN_START_AT_H
#define LOADGEN_START_AT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define START_AT_MAX_PAST_NS 1000000000LL            /* later than this is refused */
#define START_AT_MAX_AHEAD_NS (86400LL * 1000000000) /* a day: a typo must not hang a job */

/*
 * Sleeps on CLOCK_REALTIME until start_ns (Unix time in ns), saying on stderr how far the
 * local clock is from it before and after the wait (`label` names the shard, or ""). Returns 0
 * once the instant has come, or -1 with a message when start_ns lies more than a second in
 * the past or more than a day ahead.
 */
int start_at_wait(int64_t start_ns, const char *label, char *err, size_t errlen);

/* Unix time now in ns (CLOCK_REALTIME): only to place a run in wall-clock time. */
int64_t start_at_now_ns(void);

/* Formats Unix time in ns as RFC 3339 UTC with milliseconds ("2026-11-28T04:00:00.000Z"). */
void start_at_format(int64_t unix_ns, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
