/* timeline.h -- the run over time: each interval merged over threads, summarized and written. */
#ifndef LOADGEN_TIMELINE_H
#define LOADGEN_TIMELINE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "handoff.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TIMELINE_ERRLEN 512

typedef struct lg_timeline lg_timeline;

/* Where intervals start: the warm-up's end, on the monotonic clock and the wall clock. */
typedef struct timeline_clock {
    uint64_t measure_ns;     /* CLOCK_MONOTONIC */
    uint64_t measure_unix_ns; /* the same instant on CLOCK_REALTIME */
    uint64_t interval_ns;
} timeline_clock;

/*
 * Makes a timeline writing what cfg asks for as intervals end: the progress line on stderr
 * (unless -q), --csv-intervals rows and --hlog lines (the files are opened here, so a bad
 * path stops the run before it starts). applies[p] says which phases the run has. Run totals
 * are added into total (borrowed), warm-up included. NULL with "what: why" in err.
 */
lg_timeline *timeline_create(const lg_config *cfg, const timeline_clock *clk,
                             const int applies[LG_PHASE_COUNT], lg_stats *total, char *err,
                             size_t errlen);

/* Takes what the workers posted and closes every interval all of them have passed. */
void timeline_collect(lg_timeline *tl, handoff **boxes, int n);

/* After the workers ended (at end_ns, monotonic): closes the remaining intervals, the last
 * one cut short at end_ns. */
void timeline_finish(lg_timeline *tl, handoff **boxes, int n, uint64_t end_ns);

/* The closed intervals as a JSON array (docs/loadgen-json.md), a new reference. */
json_t *timeline_json(const lg_timeline *tl);

/* Closes the files; 0, or -1 with "what: why" in err when a write to one of them failed. */
int timeline_close(lg_timeline *tl, char *err, size_t errlen);
void timeline_destroy(lg_timeline *tl);

/* A phase's figures as JSON: count, min, p50, p90, p99, p999, max, mean, stddev and hist
 * (the HdrHistogram encoding). A new reference, NULL on ENOMEM. */
json_t *timeline_phase_json(const hist *h);

/* Errors by cause plus "total" as a JSON object, a new reference. */
json_t *timeline_errors_json(const lg_stats *s);

#ifdef __cplusplus
}
#endif
#endif
