/* report.h -- loadgen's results and their writers: human text, JSON, CSV and .hgrm files. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <stdio.h>

#include "config.h"
#include "kstats.h"
#include "stats.h"
#include "target.h"
#include "transport.h"

/* A thread running or waiting to run more than this fraction of its wall time had no idle
 * moment to spare: it may have bounded the results. */
#define REPORT_SATURATED 0.90
/* The JSON result's format (docs/loadgen-json.md); the number changes when a field changes
 * meaning or goes away, not when one is added. */
#define REPORT_JSON_SCHEMA "loadgen-result/2"

struct lg_timeline;

/* Everything a finished run reports. The pointers are borrowed from the run. */
typedef struct lg_report {
    const lg_config *cfg;
    const lg_target *target;
    const lg_stats *stats;     /* merged over threads */
    const transport *transport;
    int threads;
    int interrupted;           /* SIGINT/SIGTERM ended the run early */
    int stop_signal;           /* ... that signal, or 0 */
    const char *stopped_by;    /* what ended the measured window: "duration" (-d), "count"
                                * (-n), "signal" or "abort" (--abort-after) */
    double duration_s;         /* the measured window: from the warm-up's end to its end */
    double mean_concurrency;   /* Little's law: connection time / duration */
    long peak_in_flight;
    long peak_established;     /* established but not yet greeted, at most at once */
    double cpu_user_s, cpu_sys_s; /* the whole process, warm-up included */
    double busiest_thread;     /* CPU time / wall time of the thread that was most often
                                * running or waiting to run */
    double busiest_thread_wait; /* that thread's time waiting for a CPU / wall time */
    int busiest_id;
    kstats kernel;             /* after minus before; present[] only where both were read */
    const struct lg_timeline *timeline; /* the intervals, NULL when none were recorded */
    char host[256];            /* gethostname() */
    uint64_t start_unix_ns;    /* the warm-up's end (the first interval's start), wall clock */
    char start_time[64];       /* the same in RFC 3339, UTC */
    double fail_if_measured[FAILIF_MAX]; /* cfg->fail_if[i]'s metric as measured */
    int fail_if_pass[FAILIF_MAX];        /* 1 when it held */
} lg_report;

/* 1 when the busiest loadgen thread was saturated (see REPORT_SATURATED). */
int report_saturated(const lg_report *r);

/* 1 when phase p means something for this run: connect not for datagrams, tls only with
 * --tls, greeting_uncorrected only in the open loop. Every writer shows these phases only. */
int report_phase_applies(const lg_report *r, int phase);

/* What the run spoke: "tcp", "tls", "udp", "unix" (stream) or "unix-dgram". */
const char *report_transport_name(const lg_report *r);

/* Greetings that finished inside the measured window, per second of it. */
double report_rate(const lg_report *r);
/* Refused connects per second of the measured window. */
double report_refused_rate(const lg_report *r);
/* Loadgen's CPU microseconds (user + sys) per greeting, warm-up greetings included. */
double report_us_per_greeting(const lg_report *r);

/* Measures every --fail-if condition into r; returns how many did not hold. */
int report_judge(lg_report *r);

/* A latency for people in buf: 845us, 12.34ms, 1.50s. Returns buf. */
const char *report_human_us(char *buf, size_t len, double us);

/* The human report: throughput, phase table, ab-style percentiles, errors, CPU, kernel. */
void report_text(FILE *out, const lg_report *r);

/* Keep-alive requests per second over the measured duration. */
double report_request_rate(const lg_report *r);
/* The replies seen and failed (at most 5 each, most common first), the requests and the
 * --expect hint: as text, and as members of the JSON result o (a json_t *). */
void report_text_replies(FILE *out, const lg_report *r);
struct json_t;
void report_json_replies(struct json_t *o, const lg_report *r);

/* Writers return 0, or -1 with "what: why" in err. */
int report_json(FILE *out, const lg_report *r);
int report_csv(FILE *out, const lg_report *r);
/* Writes DIR/PHASE.hgrm for each phase that has values, creating DIR if needed. */
int report_hgrm(const char *dir, const lg_report *r, char *err, size_t errlen);

#endif
