/* fleet.c -- the fleet's result: shards' results checked against each other and added exactly. */
#include "fleet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hist.h"
#include "result.h"
#include "timeline.h"

#define FLEET_MAX_PHASES 16
#define FLEET_MAX_MISALIGN 0.1 /* of an interval: more means the shards did not start together */

/* What merging needs about each input besides its JSON. */
typedef struct fleet_input {
    const json_t *root;
    const char *path;
    long long offset; /* fleet interval of the shard's interval 0 */
} fleet_input;

/* A phase's merged histogram, by name. */
typedef struct phase_sum {
    const char *name;
    hist *h;
} phase_sum;

/* dst[key] += v: integers stay integers (overflow is an error), anything else adds as a real. */
static int add_value(json_t *dst, const char *key, const json_t *v)
{
    json_t *have = json_object_get(dst, key);
    if (!have)
        return json_object_set_new(dst, key, json_deep_copy(v));
    if (json_is_integer(have) && json_is_integer(v)) {
        json_int_t sum;
        if (__builtin_add_overflow(json_integer_value(have), json_integer_value(v), &sum))
            return -1;
        return json_integer_set(have, sum);
    }
    return json_object_set_new(dst, key, json_real(json_number_value(have) + json_number_value(v)));
}

/* Adds every numeric member of src[key] into dst[key] (errors, tls_reasons, kernel...). */
static int add_members(json_t *dst, const json_t *src, const char *key)
{
    const json_t *from = json_object_get(src, key), *v;
    json_t *to = json_object_get(dst, key);
    const char *name;
    if (!json_is_object(from))
        return 0;
    if (!json_is_object(to)) {
        to = json_object();
        if (!to || json_object_set_new(dst, key, to) != 0)
            return -1;
    }
    json_object_foreach((json_t *)from, name, v)
        if (json_is_number(v) && add_value(to, name, v) != 0)
            return -1;
    return 0;
}

/* Adds src's listed keys into dst; -1 on an overflowing count. */
static int add_keys(json_t *dst, const json_t *src, const char *const *keys)
{
    for (; *keys; keys++) {
        const json_t *v = json_object_get(src, *keys);
        if (json_is_number(v) && add_value(dst, *keys, v) != 0)
            return -1;
    }
    return 0;
}

/* The string field every input must share. */
static int same_string(const fleet_input *in, int n, const char *key, char *err, size_t errlen)
{
    const char *want = json_string_value(json_object_get(in[0].root, key));
    for (int i = 1; i < n; i++) {
        const char *have = json_string_value(json_object_get(in[i].root, key));
        if (strcmp(want, have) != 0)
            return err_fail(err, errlen, "%s: %s '%s' differs from %s's '%s': not shards of one test",
                        in[i].path, key, have, in[0].path, want);
    }
    return 0;
}

static int same_number(const fleet_input *in, int n, const char *key, char *err, size_t errlen)
{
    double want = result_number(in[0].root, key);
    for (int i = 1; i < n; i++) {
        double have = result_number(in[i].root, key);
        if (fabs(have - want) > 1e-9 * fmax(1.0, fabs(want)))
            return err_fail(err, errlen, "%s: %s %g differs from %s's %g: not shards of one test",
                        in[i].path, key, have, in[0].path, want);
    }
    return 0;
}

/* The phases of the whole run must be the same set in every input. */
static int same_phases(const fleet_input *in, int n, char *err, size_t errlen)
{
    const json_t *want = json_object_get(in[0].root, "latency_us");
    for (int i = 1; i < n; i++) {
        const json_t *have = json_object_get(in[i].root, "latency_us"), *v;
        const char *name;
        int differ = json_object_size(have) != json_object_size(want);
        json_object_foreach((json_t *)have, name, v)
            differ |= !json_object_get(want, name);
        if (differ)
            return err_fail(err, errlen, "%s: its latency phases differ from %s's", in[i].path,
                        in[0].path);
    }
    return 0;
}

/* Independent runs (no --shard): the same run given twice would count twice. */
static int check_distinct_runs(const fleet_input *in, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (result_int(in[i].root, "start_unix_ns") == result_int(in[j].root, "start_unix_ns") &&
                json_equal(json_object_get(in[i].root, "host"), json_object_get(in[j].root, "host")))
                return err_fail(err, errlen, "%s and %s are the same run (same host and start): "
                            "it would count twice", in[j].path, in[i].path);
    return 0;
}

/* Shards: all null (independent runs), or every index of one count exactly once. */
static int check_shards(const fleet_input *in, int n, char *err, size_t errlen)
{
    const json_t *s0 = json_object_get(in[0].root, "shard");
    long long count = json_is_null(s0) ? 0 : result_int(s0, "count");
    if (count == 0) {
        for (int i = 1; i < n; i++)
            if (!json_is_null(json_object_get(in[i].root, "shard")))
                return err_fail(err, errlen, "%s: is a shard but %s is not", in[i].path, in[0].path);
        return check_distinct_runs(in, n, err, errlen);
    }
    const char **seen = calloc((size_t)count, sizeof(*seen));
    if (!seen)
        return err_fail(err, errlen, "out of memory");
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        const json_t *s = json_object_get(in[i].root, "shard");
        if (json_is_null(s))
            rc = err_fail(err, errlen, "%s: is not a shard but %s is", in[i].path, in[0].path);
        else if (result_int(s, "count") != count)
            rc = err_fail(err, errlen, "%s: shard of %lld but %s is a shard of %lld", in[i].path,
                      result_int(s, "count"), in[0].path, count);
        else if (seen[result_int(s, "index")])
            rc = err_fail(err, errlen, "%s and %s are both shard %lld/%lld: overlapping shards",
                      seen[result_int(s, "index")], in[i].path, result_int(s, "index"), count);
        else
            seen[result_int(s, "index")] = in[i].path;
    }
    for (long long k = 0; rc == 0 && k < count; k++)
        if (!seen[k])
            rc = err_fail(err, errlen, "shard %lld/%lld is missing (%d of %lld given): the fleet's "
                      "figures would be short", k, count, n, count);
    free(seen);
    return rc;
}

/* Places each input's interval 0 on the fleet's grid; refuses starts between boundaries. */
static int align_intervals(fleet_input *in, int n, long long *fleet_start, char *err,
                           size_t errlen)
{
    double interval_ns = result_number(in[0].root, "interval_s") * 1e9;
    int first = 0;
    for (int i = 1; i < n; i++)
        if (result_int(in[i].root, "start_unix_ns") < result_int(in[first].root, "start_unix_ns"))
            first = i;
    *fleet_start = result_int(in[first].root, "start_unix_ns");
    for (int i = 0; i < n; i++) {
        double delta = (double)(result_int(in[i].root, "start_unix_ns") - *fleet_start);
        double k = floor(delta / interval_ns + 0.5);
        if (fabs(delta - k * interval_ns) > FLEET_MAX_MISALIGN * interval_ns || k > 1e6)
            return err_fail(err, errlen, "%s started %.3f s after %s, not on an interval boundary: "
                        "start every shard with the same --start-at", in[i].path, delta / 1e9,
                        in[first].path);
        in[i].offset = (long long)k;
    }
    return 0;
}

/* The phase_sum for name, added to sums on first sight; NULL when full or out of memory. */
static hist *phase_hist(phase_sum *sums, int *nsums, const char *name)
{
    for (int i = 0; i < *nsums; i++)
        if (strcmp(sums[i].name, name) == 0)
            return sums[i].h;
    if (*nsums == FLEET_MAX_PHASES || !(sums[*nsums].h = hist_create()))
        return NULL;
    sums[*nsums].name = name;
    return sums[(*nsums)++].h;
}

/* Adds each phase's histogram of latency_us into sums. */
static int add_phases(phase_sum *sums, int *nsums, const json_t *latency, char *err,
                      size_t errlen)
{
    const char *name;
    const json_t *phase;
    json_object_foreach((json_t *)latency, name, phase) {
        hist *h = phase_hist(sums, nsums, name);
        if (!h)
            return err_fail(err, errlen, "too many latency phases, or out of memory");
        if (result_phase_hist(phase, h, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Replaces latency_us in o by the merged phases, and frees the sums. */
static int set_phases(json_t *o, phase_sum *sums, int nsums)
{
    json_t *latency = json_object();
    int rc = latency ? 0 : -1;
    for (int i = 0; i < nsums; i++) {
        json_t *phase = timeline_phase_json(sums[i].h);
        if (!phase || json_object_set_new(latency, sums[i].name, phase) != 0)
            rc = -1;
        hist_destroy(sums[i].h);
    }
    json_object_set_new(o, "latency_us", latency);
    return rc;
}

static const char *const interval_counts[] = {"starts", "greetings", "unfinished", "late_starts",
                                              "in_flight", "established_not_greeted", "requests",
                                              "failed_requests", NULL};

/* Fleet interval j: the sum of the inputs' intervals j - offset. */
static json_t *merge_interval(const fleet_input *in, int n, long long j, double interval_s,
                              char *err, size_t errlen)
{
    json_t *o = json_pack("{s:I, s:f, s:f}", "index", (json_int_t)j, "start_s",
                          (double)j * interval_s, "length_s", 0.0);
    phase_sum sums[FLEET_MAX_PHASES];
    int nsums = 0, rc = o ? 0 : err_fail(err, errlen, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        const json_t *iv = json_array_get(json_object_get(in[i].root, "intervals"),
                                          (size_t)(j - in[i].offset));
        if (!iv || j < in[i].offset)
            continue;
        /* A --stage target is the fleet's level in every shard already: copied, not summed. */
        if (json_is_number(json_object_get(iv, "target")) && !json_object_get(o, "target"))
            json_object_set_new(o, "target", json_deep_copy(json_object_get(iv, "target")));
        if (add_keys(o, iv, interval_counts) != 0 || add_members(o, iv, "errors") != 0)
            rc = err_fail(err, errlen, "%s: counts too large to add", in[i].path);
        else
            rc = add_phases(sums, &nsums, json_object_get(iv, "latency_us"), err, errlen);
        double length = fmax(result_number(o, "length_s"), result_number(iv, "length_s"));
        json_object_set_new(o, "length_s", json_real(length));
    }
    if (o && set_phases(o, sums, nsums) != 0 && rc == 0)
        rc = err_fail(err, errlen, "out of memory");
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    double length = result_number(o, "length_s");
    json_object_set_new(o, "rate", json_real(length > 0 ? (double)result_int(o, "greetings") / length : 0));
    if (json_object_get(o, "requests"))
        json_object_set_new(o, "request_rate",
                            json_real(length > 0 ? (double)result_int(o, "requests") / length : 0));
    return o;
}

static int merge_intervals(json_t *fleet, const fleet_input *in, int n, char *err, size_t errlen)
{
    long long total = 0;
    for (int i = 0; i < n; i++) {
        long long end = in[i].offset + (long long)json_array_size(json_object_get(in[i].root, "intervals"));
        total = end > total ? end : total;
    }
    json_t *intervals = json_array();
    json_object_set_new(fleet, "intervals", intervals);
    for (long long j = 0; j < total; j++) {
        json_t *iv = merge_interval(in, n, j, result_number(fleet, "interval_s"), err, errlen);
        if (!iv || json_array_append_new(intervals, iv) != 0)
            return -1;
    }
    return 0;
}

/* The shard's own line in the fleet's "shards" array. */
static json_t *shard_line(const fleet_input *in, long long fleet_start)
{
    const json_t *r = in->root, *greeting = json_object_get(json_object_get(r, "latency_us"), "greeting");
    const json_t *shard = json_object_get(r, "shard");
    return json_pack("{s:s, s:O, s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:O}",
                     "file", in->path, "shard", shard, "host",
                     json_string_value(json_object_get(r, "host")) ? json_string_value(json_object_get(r, "host")) : "",
                     "start_time", json_string_value(json_object_get(r, "start_time")),
                     "start_offset_ms", (double)(result_int(r, "start_unix_ns") - fleet_start) / 1e6,
                     "starts", (json_int_t)result_int(r, "starts"),
                     "greetings", (json_int_t)result_int(r, "greetings"),
                     "errors", (json_int_t)result_int(json_object_get(r, "errors"), "total"),
                     "unfinished", (json_int_t)result_int(r, "unfinished"),
                     "rate", result_number(r, "rate"),
                     "p50_us", (json_int_t)result_int(greeting, "p50"),
                     "p99_us", (json_int_t)result_int(greeting, "p99"),
                     "p999_us", (json_int_t)result_int(greeting, "p999"),
                     "cpu_saturated", json_object_get(json_object_get(r, "cpu"), "saturated")
                                          ? json_object_get(json_object_get(r, "cpu"), "saturated")
                                          : json_false());
}

static const char *const run_counts[] = {
    "threads", "connections", "connect_rate", "rate_requested", "starts", "greetings",
    "greetings_after_window", "bytes_read", "unfinished", "late_starts", "refused_backoffs",
    "warmup_greetings", "peak_established_not_greeted", "requests", "failed_requests",
    "waited_after_reply", NULL};
static const char *const concurrency_keys[] = {"requested", "peak", "mean", NULL};
static const char *const cpu_sums[] = {"user_s", "sys_s", NULL};

/* The maxima and flags of the cpu object, and the CPU per greeting of the fleet. */
static void merge_cpu(json_t *fleet, const fleet_input *in, int n)
{
    json_t *cpu = json_object_get(fleet, "cpu");
    double busiest = 0, wait = 0;
    int saturated = 0;
    if (!json_is_object(cpu))
        return;
    for (int i = 0; i < n; i++) {
        const json_t *c = json_object_get(in[i].root, "cpu");
        busiest = fmax(busiest, result_number(c, "busiest_thread"));
        wait = fmax(wait, result_number(c, "busiest_thread_wait"));
        saturated |= json_is_true(json_object_get(c, "saturated"));
    }
    long long greetings = result_int(fleet, "greetings") + result_int(fleet, "warmup_greetings");
    double cpu_s = result_number(cpu, "user_s") + result_number(cpu, "sys_s");
    json_object_set_new(cpu, "us_per_greeting", json_real(greetings ? cpu_s * 1e6 / (double)greetings : 0));
    json_object_set_new(cpu, "busiest_thread", json_real(busiest));
    json_object_set_new(cpu, "busiest_thread_wait", json_real(wait));
    json_object_set_new(cpu, "saturated", json_boolean(saturated));
}

/* What stopped the fleet: the first of abort, signal, duration, count that stopped a shard. */
static const char *fleet_stopped_by(const fleet_input *in, int n)
{
    static const char *const causes[] = {"abort", "signal", "duration", "count"};
    for (size_t c = 0; c < sizeof(causes) / sizeof(causes[0]); c++)
        for (int i = 0; i < n; i++)
            if (json_string_value(json_object_get(in[i].root, "stopped_by")) &&
                strcmp(json_string_value(json_object_get(in[i].root, "stopped_by")), causes[c]) == 0)
                return causes[c];
    return "duration";
}

/* Sums, maxima and merged histograms of the whole run into fleet (a copy of input 0). */
static int merge_totals(json_t *fleet, const fleet_input *in, int n, long long fleet_start,
                        char *err, size_t errlen)
{
    static const char *const objects[] = {"errors",  "tls_handshakes", "tls_reasons",
                                          "kernel",  "replies",        "failed_replies"};
    phase_sum sums[FLEET_MAX_PHASES];
    int nsums = 0, rc = 0, interrupted = 0;
    double duration = 0;
    json_t *lines = json_array();
    for (int i = 0; i < n; i++) {
        const json_t *r = in[i].root;
        int overflow = i > 0 && (add_keys(fleet, r, run_counts) != 0 ||
                                 add_keys(json_object_get(fleet, "concurrency"),
                                          json_object_get(r, "concurrency"), concurrency_keys) != 0 ||
                                 add_keys(json_object_get(fleet, "cpu"), json_object_get(r, "cpu"),
                                          cpu_sums) != 0);
        for (size_t k = 0; i > 0 && k < sizeof(objects) / sizeof(objects[0]); k++)
            overflow |= add_members(fleet, r, objects[k]) != 0;
        if (overflow && rc == 0)
            rc = err_fail(err, errlen, "%s: counts too large to add", in[i].path);
        if (rc == 0)
            rc = add_phases(sums, &nsums, json_object_get(r, "latency_us"), err, errlen);
        duration = fmax(duration, result_number(r, "duration_s"));
        interrupted |= json_is_true(json_object_get(r, "interrupted"));
        json_array_append_new(lines, shard_line(&in[i], fleet_start));
    }
    if (set_phases(fleet, sums, nsums) != 0 && rc == 0)
        rc = err_fail(err, errlen, "out of memory");
    json_object_set_new(fleet, "duration_s", json_real(duration));
    json_object_set_new(fleet, "interrupted", json_boolean(interrupted));
    json_object_set_new(fleet, "stopped_by", json_string(fleet_stopped_by(in, n)));
    long long in_window = result_int(fleet, "greetings") - result_int(fleet, "greetings_after_window");
    json_object_set_new(fleet, "rate", json_real(duration > 0 ? (double)in_window / duration : 0));
    if (json_object_get(fleet, "request_rate"))
        json_object_set_new(fleet, "request_rate",
                            json_real(duration > 0 ? (double)result_int(fleet, "requests") / duration : 0));
    json_object_set_new(fleet, "shards", lines);
    merge_cpu(fleet, in, n);
    return rc;
}

json_t *fleet_merge(json_t *const *shards, const char *const *paths, int n, char *err,
                    size_t errlen)
{
    static const char *const strings[] = {"target", "transport", "mode"};
    static const char *const numbers[] = {"interval_s", "warmup_s"};
    fleet_input *in = calloc((size_t)n, sizeof(*in));
    long long fleet_start = 0;
    json_t *fleet = NULL;
    if (!in)
        return err_fail(err, errlen, "out of memory"), NULL;
    int rc = 0;
    for (int i = 0; i < n; i++)
        in[i] = (fleet_input){.root = shards[i], .path = paths[i]};
    for (size_t k = 0; rc == 0 && k < sizeof(strings) / sizeof(strings[0]); k++)
        rc = same_string(in, n, strings[k], err, errlen);
    for (size_t k = 0; rc == 0 && k < sizeof(numbers) / sizeof(numbers[0]); k++)
        rc = same_number(in, n, numbers[k], err, errlen);
    if (rc == 0)
        rc = same_phases(in, n, err, errlen) || check_shards(in, n, err, errlen) ||
             align_intervals(in, n, &fleet_start, err, errlen);
    if (rc == 0 && !(fleet = json_deep_copy(shards[0])))
        rc = err_fail(err, errlen, "out of memory");
    if (rc == 0) {
        char when[64];
        json_object_set_new(fleet, "host", json_sprintf("fleet of %d", n));
        json_object_set_new(fleet, "shard", json_null());
        json_object_set_new(fleet, "start_unix_ns", json_integer(fleet_start));
        for (int i = 0; i < n; i++)
            if (result_int(in[i].root, "start_unix_ns") == fleet_start)
                snprintf(when, sizeof(when), "%s", json_string_value(json_object_get(in[i].root, "start_time")));
        json_object_set_new(fleet, "start_time", json_string(when));
        rc = merge_totals(fleet, in, n, fleet_start, err, errlen) ||
             merge_intervals(fleet, in, n, err, errlen);
    }
    free(in);
    if (rc != 0) {
        json_decref(fleet);
        return NULL;
    }
    return fleet;
}

/* A latency in ms with three decimals for the report's columns. */
static double ms(const json_t *phase, const char *key)
{
    return (double)result_int(phase, key) / 1e3;
}

static void report_shards(FILE *out, const json_t *fleet)
{
    const json_t *lines = json_object_get(fleet, "shards"), *line;
    size_t i;
    fprintf(out, "%-7s %-16s %9s %10s %10s %8s %11s %8s %8s %8s\n", "shard", "host", "start",
            "starts", "greetings", "errors", "greetings/s", "p50 ms", "p99 ms", "p99.9 ms");
    json_array_foreach(lines, i, line) {
        const json_t *s = json_object_get(line, "shard");
        char name[32] = "-";
        if (json_is_object(s))
            snprintf(name, sizeof(name), "%lld/%lld", result_int(s, "index"), result_int(s, "count"));
        fprintf(out, "%-7s %-16.16s %+7.1fms %10lld %10lld %8lld %11.1f %8.3f %8.3f %8.3f%s\n", name,
                json_string_value(json_object_get(line, "host")),
                result_number(line, "start_offset_ms"), result_int(line, "starts"),
                result_int(line, "greetings"), result_int(line, "errors"),
                result_number(line, "rate"), (double)result_int(line, "p50_us") / 1e3,
                (double)result_int(line, "p99_us") / 1e3, (double)result_int(line, "p999_us") / 1e3,
                json_is_true(json_object_get(line, "cpu_saturated")) ? "  (loadgen saturated)" : "");
    }
    const json_t *g = json_object_get(json_object_get(fleet, "latency_us"), "greeting");
    fprintf(out, "%-7s %-16s %9s %10lld %10lld %8lld %11.1f %8.3f %8.3f %8.3f\n", "fleet", "", "",
            result_int(fleet, "starts"), result_int(fleet, "greetings"),
            result_int(json_object_get(fleet, "errors"), "total"), result_number(fleet, "rate"),
            ms(g, "p50"), ms(g, "p99"), ms(g, "p999"));
}

static void report_errors(FILE *out, const json_t *fleet)
{
    const json_t *errors = json_object_get(fleet, "errors"), *v;
    const char *name, *sep = "";
    fputs("\nerrors:", out);
    json_object_foreach((json_t *)errors, name, v) {
        if (strcmp(name, "total") != 0 && json_integer_value(v) > 0) {
            fprintf(out, "%s %s %lld", sep, name, (long long)json_integer_value(v));
            sep = ",";
        }
    }
    fputs(*sep ? "\n" : " none\n", out);
}

static void report_phases(FILE *out, const json_t *fleet)
{
    const json_t *phase;
    const char *name;
    fprintf(out, "\n%-22s %10s %9s %9s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90",
            "p99", "p99.9", "max", "mean");
    json_object_foreach(json_object_get(fleet, "latency_us"), name, phase) {
        fprintf(out, "%-22s %10lld %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", name,
                result_int(phase, "count"), ms(phase, "p50"), ms(phase, "p90"), ms(phase, "p99"),
                ms(phase, "p999"), ms(phase, "max"), result_number(phase, "mean") / 1e3);
    }
}

static void report_intervals(FILE *out, const json_t *fleet)
{
    const json_t *intervals = json_object_get(fleet, "intervals"), *iv;
    size_t i, n = json_array_size(intervals), step = n > 30 ? (n + 29) / 30 : 1;
    fprintf(out, "\n%8s %12s %8s %10s %9s %9s %9s   (greeting latency, ms)\n", "time s",
            "greetings/s", "errors", "in flight", "p50", "p99", "p99.9");
    json_array_foreach(intervals, i, iv) {
        const json_t *g = json_object_get(json_object_get(iv, "latency_us"), "greeting");
        if (i % step != 0 && i != n - 1)
            continue;
        fprintf(out, "%8.1f %12.1f %8lld %10lld %9.3f %9.3f %9.3f\n", result_number(iv, "start_s"),
                result_number(iv, "rate"), result_int(json_object_get(iv, "errors"), "total"),
                result_int(iv, "in_flight"), ms(g, "p50"), ms(g, "p99"), ms(g, "p999"));
    }
    if (step > 1)
        fprintf(out, "(every %zu%s of %zu intervals; all are in the JSON)\n", step,
                step == 2 ? "nd" : step == 3 ? "rd" : "th", n);
}

void fleet_report(FILE *out, const json_t *fleet)
{
    fprintf(out, "fleet of %zu: %s (%s, %s loop), %.2f s measured from %s, intervals of %g s\n",
            json_array_size(json_object_get(fleet, "shards")),
            json_string_value(json_object_get(fleet, "target")),
            json_string_value(json_object_get(fleet, "transport")),
            json_string_value(json_object_get(fleet, "mode")), result_number(fleet, "duration_s"),
            json_string_value(json_object_get(fleet, "start_time")),
            result_number(fleet, "interval_s"));
    report_shards(out, fleet);
    report_errors(out, fleet);
    report_phases(out, fleet);
    report_intervals(out, fleet);
}
