/* start_at.c -- waiting for --start-at, the wall-clock instant every shard of a fleet starts. */
#include "start_at.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define NS_PER_S 1000000000LL

int64_t start_at_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void start_at_format(int64_t unix_ns, char *buf, size_t len)
{
    time_t secs = (time_t)(unix_ns / NS_PER_S);
    struct tm tm;
    char day[32];
    if (!gmtime_r(&secs, &tm) || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "%lld ns", (long long)unix_ns);
        return;
    }
    snprintf(buf, len, "%s.%03lldZ", day, (long long)(unix_ns % NS_PER_S / 1000000));
}

int start_at_wait(int64_t start_ns, const char *label, char *err, size_t errlen)
{
    char when[64];
    start_at_format(start_ns, when, sizeof(when));
    int64_t ahead = start_ns - start_at_now_ns();
    if (ahead < -START_AT_MAX_PAST_NS)
        return snprintf(err, errlen, "--start-at %s is %.3f s in the past by the local clock "
                        "(give a time a few seconds ahead, after every shard has started)",
                        when, (double)-ahead / 1e9), -1;
    if (ahead > START_AT_MAX_AHEAD_NS)
        return snprintf(err, errlen, "--start-at %s is %.0f s ahead, more than a day: a typo?",
                        when, (double)ahead / 1e9), -1;
    fprintf(stderr, "loadgen: %sstarting at %s, %.3f s from now by the local clock\n", label,
            when, (double)ahead / 1e9);
    struct timespec at = {(time_t)(start_ns / NS_PER_S), (long)(start_ns % NS_PER_S)};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) == EINTR)
        ;
    fprintf(stderr, "loadgen: %sstarted %.3f ms after %s by the local clock\n", label,
            (double)(start_at_now_ns() - start_ns) / 1e6, when);
    return 0;
}
