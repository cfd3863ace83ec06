/* result.c -- a loadgen result (--json, docs/loadgen-json.md) read back and checked. */
#include "result.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdr_codec.h"
#include "report.h"

/* Fills err with "where: why" and returns -1. */
static int fail(char *err, size_t errlen, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, const char *where, const char *fmt, ...)
{
    char why[RESULT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", where, why);
    return -1;
}

long long result_int(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

double result_number(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* Each key must be a count: an integer >= 0. */
static int check_counts(const json_t *o, const char *where, const char *const *keys, char *err,
                        size_t errlen)
{
    for (; *keys; keys++) {
        const json_t *v = json_object_get(o, *keys);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return fail(err, errlen, where, "'%s' is missing or not a count", *keys);
    }
    return 0;
}

/* Each key must be a number >= 0 (JSON integer or real). */
static int check_numbers(const json_t *o, const char *where, const char *const *keys, char *err,
                         size_t errlen)
{
    for (; *keys; keys++) {
        const json_t *v = json_object_get(o, *keys);
        if (!json_is_number(v) || json_number_value(v) < 0)
            return fail(err, errlen, where, "'%s' is missing or not a number >= 0", *keys);
    }
    return 0;
}

/* An object whose every member is a count (errors, tls_reasons, kernel). */
static int check_count_object(const json_t *parent, const char *key, const char *where,
                              char *err, size_t errlen)
{
    const json_t *o = json_object_get(parent, key), *v;
    const char *name;
    if (!json_is_object(o))
        return fail(err, errlen, where, "'%s' is missing or not an object", key);
    json_object_foreach((json_t *)o, name, v)
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return fail(err, errlen, where, "'%s.%s' is not a count", key, name);
    return 0;
}

int result_phase_hist(const json_t *phase, hist *h, char *err, size_t errlen)
{
    const json_t *text = json_object_get(phase, "hist");
    if (!json_is_string(text))
        return fail(err, errlen, "hist", "missing or not a string");
    hist *scratch = hist_create();
    if (!scratch)
        return fail(err, errlen, "hist", "out of memory");
    /* The encoding keeps buckets only; the phase's exact min and max make every percentile the
     * one the writer's own histogram gave (the top bucket's is capped at the exact max). */
    int rc = hdr_decode(json_string_value(text), json_string_length(text), scratch, err, errlen);
    if (rc == 0 && hist_set_exact_range(scratch, (uint64_t)result_int(phase, "min"),
                                        (uint64_t)result_int(phase, "max")) != 0)
        rc = fail(err, errlen, "hist", "min %lld and max %lld disagree with its buckets",
                  result_int(phase, "min"), result_int(phase, "max"));
    if (rc == 0)
        hist_merge(h, scratch);
    hist_destroy(scratch);
    return rc;
}

/* Every phase of a latency_us object decodes, and its count is the histogram's. */
static int check_phases(const json_t *latency, const char *where, hist *scratch, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"count", "min", "max", "p50", "p90", "p99", "p999", NULL};
    char at[128], why[RESULT_ERRLEN];
    const char *name;
    const json_t *phase;
    if (!json_is_object(latency))
        return fail(err, errlen, where, "'latency_us' is missing or not an object");
    json_object_foreach((json_t *)latency, name, phase) {
        snprintf(at, sizeof(at), "%s.latency_us.%s", where, name);
        if (!json_is_object(phase) || check_counts(phase, at, keys, err, errlen) != 0)
            return json_is_object(phase) ? -1 : fail(err, errlen, at, "not an object");
        hist_reset(scratch);
        if (result_phase_hist(phase, scratch, why, sizeof(why)) != 0)
            return fail(err, errlen, at, "%s", why);
        if (hist_count(scratch) != (uint64_t)result_int(phase, "count"))
            return fail(err, errlen, at, "count %lld but the histogram holds %llu",
                        result_int(phase, "count"), (unsigned long long)hist_count(scratch));
    }
    return 0;
}

/* The histogram layout must be ours, or buckets would not add up. */
static int check_layout(const json_t *root, char *err, size_t errlen)
{
    const json_t *layout = json_object_get(root, "histogram");
    if (!json_is_object(layout))
        return fail(err, errlen, "histogram", "missing or not an object");
    long long lowest = result_int(layout, "lowest"), highest = result_int(layout, "highest");
    long long digits = result_int(layout, "significant_digits");
    if (lowest != 1 || highest != (long long)HIST_HIGHEST || digits != HIST_SIGNIFICANT_DIGITS)
        return fail(err, errlen, "histogram",
                    "layout lowest=%lld highest=%lld digits=%lld is not loadgen's (1, %llu, %d): "
                    "its buckets cannot be added to ours",
                    lowest, highest, digits, (unsigned long long)HIST_HIGHEST,
                    HIST_SIGNIFICANT_DIGITS);
    return 0;
}

static const char *const count_keys[] = {"starts", "greetings", "unfinished", "late_starts",
                                         NULL};

static int check_intervals(const json_t *root, hist *scratch, char *err, size_t errlen)
{
    static const char *const numbers[] = {"start_s", "length_s", NULL};
    const json_t *intervals = json_object_get(root, "intervals"), *iv;
    size_t k;
    char at[64];
    if (!json_is_array(intervals))
        return fail(err, errlen, "intervals", "missing or not an array");
    json_array_foreach(intervals, k, iv) {
        snprintf(at, sizeof(at), "intervals[%zu]", k);
        if (!json_is_object(iv))
            return fail(err, errlen, at, "not an object");
        if (result_int(iv, "index") != (long long)k || !json_is_integer(json_object_get(iv, "index")))
            return fail(err, errlen, at, "'index' is not %zu: intervals out of order", k);
        if (check_counts(iv, at, count_keys, err, errlen) != 0 ||
            check_numbers(iv, at, numbers, err, errlen) != 0 ||
            check_count_object(iv, "errors", at, err, errlen) != 0 ||
            check_phases(json_object_get(iv, "latency_us"), at, scratch, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* null, or {"index": I, "count": N} with 0 <= I < N. */
static int check_shard(const json_t *root, char *err, size_t errlen)
{
    const json_t *shard = json_object_get(root, "shard");
    if (json_is_null(shard))
        return 0;
    const json_t *index = json_object_get(shard, "index"), *count = json_object_get(shard, "count");
    if (!json_is_integer(index) || !json_is_integer(count) || json_integer_value(count) < 1 ||
        json_integer_value(index) < 0 || json_integer_value(index) >= json_integer_value(count))
        return fail(err, errlen, "shard", "not null nor {\"index\": I, \"count\": N} with I < N");
    return 0;
}

static int check_top(const json_t *root, char *err, size_t errlen)
{
    static const char *const strings[] = {"target", "transport", "mode", "start_time", NULL};
    static const char *const counts[] = {"start_unix_ns", "bytes_read", "warmup_greetings",
                                         NULL};
    static const char *const numbers[] = {"warmup_s", "duration_s", "interval_s", "rate", NULL};
    const json_t *schema = json_object_get(root, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), REPORT_JSON_SCHEMA) != 0)
        return fail(err, errlen, "schema", "not \"%s\": not a loadgen result this loadgen reads",
                    REPORT_JSON_SCHEMA);
    for (const char *const *key = strings; *key; key++)
        if (!json_is_string(json_object_get(root, *key)))
            return fail(err, errlen, *key, "missing or not a string");
    if (check_counts(root, "result", count_keys, err, errlen) != 0 ||
        check_counts(root, "result", counts, err, errlen) != 0 ||
        check_numbers(root, "result", numbers, err, errlen) != 0 ||
        check_count_object(root, "errors", "result", err, errlen) != 0)
        return -1;
    if (result_number(root, "interval_s") <= 0)
        return fail(err, errlen, "interval_s", "not > 0");
    return check_shard(root, err, errlen);
}

json_t *result_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    hist *scratch = hist_create();
    int rc = !scratch ? fail(err, errlen, "result", "out of memory")
             : !json_is_object(root) ? fail(err, errlen, "result", "not a JSON object")
                                     : 0;
    if (rc == 0)
        rc = check_top(root, err, errlen) != 0 || check_layout(root, err, errlen) != 0 ||
                     check_phases(json_object_get(root, "latency_us"), "result", scratch, err,
                                  errlen) != 0 ||
                     check_intervals(root, scratch, err, errlen) != 0
                 ? -1
                 : 0;
    hist_destroy(scratch);
    if (rc != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

char *result_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= RESULT_MAX_FILE)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = !buf || ferror(f) || n >= RESULT_MAX_FILE;
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "%s", buf ? "unreadable or larger than 256 MB" : "out of memory");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

json_t *result_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = result_read_file(path, &len, err, errlen);
    json_t *root = text ? result_parse(text, len, err, errlen) : NULL;
    free(text);
    return root;
}
