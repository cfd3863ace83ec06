/* merge.c -- 'loadgen merge': the fleet's result from its shards' JSON, or .hgrm files added. */
#include "merge.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "fleet_judge.h"
#include "hist.h"
#include "hlog.h"
#include "result.h"

#define MERGE_USAGE                                                                           \
    "usage: loadgen merge [-o FILE] [--hlog FILE] [--fail-if COND]... FILE.json... | [-o FILE] " \
    "FILE.hgrm..."

static void print_summary(const hist *h, int files)
{
    fprintf(stderr,
            "merged %d file%s: count %" PRIu64 ", p50 %" PRIu64 " us, p90 %" PRIu64
            " us, p99 %" PRIu64 " us, p99.9 %" PRIu64 " us, max %" PRIu64 " us, mean %.1f us\n",
            files, files == 1 ? "" : "s", hist_count(h), hist_percentile(h, 50),
            hist_percentile(h, 90), hist_percentile(h, 99), hist_percentile(h, 99.9),
            hist_max(h), hist_mean(h));
}

static int usage(const char *what)
{
    fprintf(stderr, "loadgen merge: %s (%s)\n", what, MERGE_USAGE);
    return 2;
}

/* Adds each .hgrm file into h; 0, or 1 after naming the file that failed. */
static int merge_hgrm_files(char **paths, int count, hist *h)
{
    for (int i = 0; i < count; i++) {
        char err[RESULT_ERRLEN];
        size_t len;
        char *text = result_read_file(paths[i], &len, err, sizeof(err));
        int rc = text ? hist_parse(text, len, h, err, sizeof(err)) : -1;
        free(text);
        if (rc != 0) {
            fprintf(stderr, "loadgen merge: %s: %s\n", paths[i], err);
            return 1;
        }
    }
    return 0;
}

/* Opens -o's file (or stdout); writes with write_out; closes. 0, or 1 after saying what failed. */
static int write_output(const char *out_path, int (*write_out)(FILE *, const void *),
                        const void *what)
{
    FILE *out = out_path ? fopen(out_path, "we") : stdout;
    int failed = !out || write_out(out, what) != 0;
    int saved = errno;
    /* Close (or flush) whatever was opened, even after a failed write. */
    int finish_rc = 0;
    if (out_path && out)
        finish_rc = fclose(out);
    else if (!out_path)
        finish_rc = fflush(stdout);
    if (finish_rc != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed)
        fprintf(stderr, "loadgen merge: writing %s: %s\n", out_path ? out_path : "stdout",
                strerror(saved));
    return failed;
}

static int write_hgrm(FILE *out, const void *h)
{
    return hist_write_hgrm(h, out, 5, 1000.0);
}

static int merge_hgrm(const char *out_path, char **paths, int count)
{
    hist *h = hist_create();
    if (!h)
        return fprintf(stderr, "loadgen merge: out of memory\n"), 1;
    int status = merge_hgrm_files(paths, count, h);
    if (status == 0)
        status = write_output(out_path, write_hgrm, h);
    if (status == 0)
        print_summary(h, count);
    hist_destroy(h);
    return status;
}

static int write_json(FILE *out, const void *fleet)
{
    int rc = json_dumpf(fleet, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    return rc != 0 || fputc('\n', out) == EOF ? -1 : 0;
}

static int write_hlog(FILE *out, const void *fleet)
{
    return hlog_write_result(out, fleet);
}

/* What 'loadgen merge' was asked for. */
typedef struct merge_options {
    const char *out_path;           /* -o FILE, NULL = stdout */
    const char *hlog_path;          /* --hlog FILE: the fleet's interval log, or NULL */
    failif_cond conds[FAILIF_MAX];  /* --fail-if, judged on the fleet */
    int nconds;
    char **paths;
    int npaths;
} merge_options;

/* Judges the conditions (given, or the shards' own) on the fleet; unmet count, or -1. */
static int judge(json_t *fleet, json_t **shards, merge_options *o, FILE *report)
{
    char err[RESULT_ERRLEN];
    int n = o->nconds;
    if (n == 0)
        n = fleet_conditions(shards, (const char *const *)o->paths, o->npaths, o->conds, err,
                             sizeof(err));
    int unmet = n < 0 ? -1 : fleet_judge(fleet, o->conds, n, report, err, sizeof(err));
    if (unmet < 0)
        fprintf(stderr, "loadgen merge: %s\n", err);
    return unmet;
}

/* Loads every result, merges them into the fleet's, prints the fleet report, judges the
 * --fail-if conditions and writes the result. 0, 1 on failure, 3 when a condition failed. */
static int merge_json(merge_options *o)
{
    char err[RESULT_ERRLEN];
    /* shards is an array of pointers: one json_t pointer per file. */
    json_t **shards = calloc((size_t)o->npaths, sizeof(*shards)); // NOLINT(bugprone-sizeof-expression)
    json_t *fleet = NULL;
    FILE *report = o->out_path ? stdout : stderr;
    int status = shards ? 0 : 1, unmet = 0;
    for (int i = 0; status == 0 && i < o->npaths; i++)
        if (!(shards[i] = result_load(o->paths[i], err, sizeof(err)))) {
            fprintf(stderr, "loadgen merge: %s: %s\n", o->paths[i], err);
            status = 1;
        }
    if (status == 0 && !(fleet = fleet_merge(shards, (const char *const *)o->paths, o->npaths,
                                             err, sizeof(err)))) {
        fprintf(stderr, "loadgen merge: %s\n", err);
        status = 1;
    }
    if (status == 0) {
        fleet_report(report, fleet);
        unmet = judge(fleet, shards, o, report);
        status = unmet < 0 ? 1 : 0;
    }
    if (status == 0)
        status = write_output(o->out_path, write_json, fleet);
    if (status == 0 && o->hlog_path)
        status = write_output(o->hlog_path, write_hlog, fleet);
    if (status == 0 && unmet > 0) {
        fprintf(stderr, "loadgen merge: %d --fail-if condition%s not met by the fleet\n", unmet,
                unmet == 1 ? "" : "s");
        status = 3;
    }
    json_decref(fleet);
    for (int i = 0; shards && i < o->npaths; i++)
        json_decref(shards[i]);
    free(shards);
    return status;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads the options before the files; 0, or the exit status of a usage error. */
static int parse_options(int argc, char **argv, merge_options *o)
{
    int i = 1;
    char err[RESULT_ERRLEN];
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (i + 1 == argc)
            return usage(strcmp(argv[i], "-o") == 0 ? "-o needs a file name"
                         : strcmp(argv[i], "--hlog") == 0 ? "--hlog needs a file name"
                         : strcmp(argv[i], "--fail-if") == 0 ? "--fail-if needs a condition"
                                                             : "unknown option");
        if (strcmp(argv[i], "-o") == 0) {
            o->out_path = argv[++i];
        } else if (strcmp(argv[i], "--hlog") == 0) {
            o->hlog_path = argv[++i];
            if (strcmp(o->hlog_path, "-") == 0)
                return usage("--hlog needs a file name, not '-'");
        } else if (strcmp(argv[i], "--fail-if") == 0) {
            if (o->nconds == FAILIF_MAX)
                return usage("too many --fail-if conditions");
            if (failif_parse(argv[++i], &o->conds[o->nconds++], err, sizeof(err)) != 0)
                return usage(err);
        } else {
            return usage("unknown option");
        }
    }
    o->paths = argv + i;
    o->npaths = argc - i;
    if (o->npaths == 0)
        return usage("no files to merge");
    for (int k = 0; k < o->npaths; k++)
        if (o->paths[k][0] == '-' && o->paths[k][1] != '\0')
            return usage("options go before the files");
    return 0;
}

int merge_main(int argc, char **argv)
{
    static merge_options o; /* FAILIF_MAX conditions: kept off the stack */
    memset(&o, 0, sizeof(o));
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("%s\n%s", MERGE_USAGE, FLEET_MERGE_HELP);
        return 0;
    }
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc;
    int json = 0;
    for (int i = 0; i < o.npaths; i++)
        json += has_suffix(o.paths[i], ".json");
    if (json != 0 && json != o.npaths)
        return usage("give either .json results or .hgrm files, not both");
    if (!json && o.nconds)
        return usage("--fail-if needs .json results");
    if (!json && o.hlog_path)
        return usage("--hlog needs .json results (a .hgrm file has no intervals)");
    return json ? merge_json(&o) : merge_hgrm(o.out_path, o.paths, o.npaths);
}
