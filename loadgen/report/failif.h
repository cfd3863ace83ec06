/* failif.h -- --fail-if: conditions a run must meet (latency, errors, rate), parsed and judged. */
#ifndef LOADGEN_FAILIF_H
#define LOADGEN_FAILIF_H

#include <stddef.h>

#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FAILIF_MAX 16
#define FAILIF_TEXTLEN 64

/* What every bad condition's message shows. */
#define FAILIF_GRAMMAR                                                                            \
    "COND is [PHASE.]pNN<TIME (PHASE connect, tls, first_byte, greeting (default) or "          \
    "greeting_uncorrected; pNN p50, p90, p99, p999, p99.9, max; TIME with us, ms or s), "        \
    "errors<N or errors<N% (share of finished connections), rate>N (greetings/s), "             \
    "unfinished<N or unfinished<N%; the operators are < <= > >="

typedef enum { FAILIF_LATENCY = 0, FAILIF_ERRORS, FAILIF_RATE, FAILIF_UNFINISHED } failif_kind;
typedef enum { FAILIF_LT = 0, FAILIF_LE, FAILIF_GT, FAILIF_GE } failif_op;

/* One condition that a good run meets; the run exits 3 when one does not hold. */
typedef struct failif_cond {
    char text[FAILIF_TEXTLEN]; /* as given, e.g. "connect.p999<200ms" */
    failif_kind kind;
    int phase;                 /* lg_phase, FAILIF_LATENCY only */
    double percentile;         /* 0..100, FAILIF_LATENCY only (100 = max) */
    int share;                 /* errors/unfinished given with %: a share, not a count */
    failif_op op;
    double limit;              /* us for latency, percent for a share, else a plain number */
} failif_cond;

/* Parses one condition. 0, or -1 with "--fail-if 'TEXT': why; " FAILIF_GRAMMAR in err. */
int failif_parse(const char *text, failif_cond *cond, char *err, size_t errlen);

/* The measured value of cond's metric in s (latency in us, shares in percent); rate is the
 * run's greetings per second. */
double failif_measure(const failif_cond *cond, const lg_stats *s, double rate);

/* 1 when value meets cond. */
int failif_holds(const failif_cond *cond, double value);

/* The metric's name ("greeting.p99", "errors %", "rate") and its unit ("us", "%", "/s", ""). */
void failif_describe(const failif_cond *cond, char *name, size_t namelen, const char **unit);

#ifdef __cplusplus
}
#endif
#endif
