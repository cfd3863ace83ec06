/* timeline.c -- the run over time: each interval merged over threads, summarized and written. */
#include "timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hdr_codec.h"
#include "hlog.h"
#include "report.h"

/* Percentiles every interval reports, with their JSON and CSV names. */
static const double interval_pcts[] = {50, 90, 99, 99.9};
static const char *const interval_pct_names[] = {"p50", "p90", "p99", "p999"};
#define NPCTS (sizeof(interval_pcts) / sizeof(interval_pcts[0]))

struct lg_timeline {
    const lg_config *cfg;
    timeline_clock clk;
    int applies[LG_PHASE_COUNT];
    lg_stats *total;      /* the run's totals: every closed interval added in */
    lg_stats acc;         /* the interval being gathered */
    long open_at_end, established_at_end; /* summed over the threads' slices of `next` */
    int64_t next;         /* the interval to close next; -1 is the warm-up */
    int64_t last_seen;    /* the highest index any slice carried */
    json_t *intervals;
    FILE *hlog, *csv;
    int csv_is_stdout, oom;
};

/* ---- one phase as JSON ---- */

json_t *timeline_phase_json(const hist *h)
{
    char *encoded = hdr_encode(h);
    json_t *o = encoded ? json_object() : NULL;
    if (o) {
        json_object_set_new(o, "count", json_integer((json_int_t)hist_count(h)));
        json_object_set_new(o, "min", json_integer((json_int_t)hist_min(h)));
        for (size_t i = 0; i < NPCTS; i++)
            json_object_set_new(o, interval_pct_names[i],
                                json_integer((json_int_t)hist_percentile(h, interval_pcts[i])));
        json_object_set_new(o, "max", json_integer((json_int_t)hist_max(h)));
        json_object_set_new(o, "mean", json_real(hist_mean(h)));
        json_object_set_new(o, "stddev", json_real(hist_stddev(h)));
        json_object_set_new(o, "hist", json_string(encoded));
    }
    free(encoded);
    return o;
}

/* ---- writers of one interval ---- */

json_t *timeline_errors_json(const lg_stats *s)
{
    json_t *o = json_object();
    for (int e = 0; o && e < LG_ERR_COUNT; e++)
        json_object_set_new(o, lg_stats_error_names[e], json_integer((json_int_t)s->errors[e]));
    if (o)
        json_object_set_new(o, "total", json_integer((json_int_t)lg_stats_error_total(s)));
    return o;
}

/* The --stage level in force at the end of interval k (the plan starts with the warm-up). The
 * end is the planned one, within -d's window: the last interval's measured length ends where
 * the run noticed its end, which may be a moment before the plan's (499.5 for a stage to 500). */
static double stage_target(const lg_timeline *tl, int64_t k, double length_s)
{
    double end_s = (double)k * (double)tl->clk.interval_ns / 1e9 + length_s;
    double planned_end_s = (double)(k + 1) * (double)tl->clk.interval_ns / 1e9;
    double window_s = (double)tl->cfg->duration_us / 1e6;
    if (tl->cfg->duration_us && planned_end_s > window_s)
        planned_end_s = window_s;
    if (end_s < planned_end_s)
        end_s = planned_end_s;
    end_s += (double)tl->cfg->warmup_us / 1e6;
    return stages_level(&tl->cfg->stages, (uint64_t)(end_s * 1e9));
}

static json_t *interval_json(const lg_timeline *tl, int64_t k, double length_s)
{
    const lg_stats *s = &tl->acc;
    json_t *o = json_object(), *lat = json_object();
    if (!o || !lat) {
        json_decref(o);
        json_decref(lat);
        return NULL;
    }
    json_object_set_new(o, "index", json_integer(k));
    json_object_set_new(o, "start_s", json_real((double)k * (double)tl->clk.interval_ns / 1e9));
    json_object_set_new(o, "length_s", json_real(length_s));
    json_object_set_new(o, "starts", json_integer((json_int_t)s->starts));
    json_object_set_new(o, "greetings", json_integer((json_int_t)s->greetings));
    json_object_set_new(o, "rate", json_real(length_s > 0 ? (double)s->greetings / length_s : 0));
    json_object_set_new(o, "errors", timeline_errors_json(s));
    json_object_set_new(o, "unfinished", json_integer((json_int_t)s->unfinished));
    json_object_set_new(o, "late_starts", json_integer((json_int_t)s->late_starts));
    json_object_set_new(o, "in_flight", json_integer(tl->open_at_end));
    json_object_set_new(o, "established_not_greeted", json_integer(tl->established_at_end));
    if (tl->cfg->stages.n)
        json_object_set_new(o, "target", json_real(stage_target(tl, k, length_s)));
    if (tl->cfg->requests != 1) {
        json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
        json_object_set_new(o, "failed_requests", json_integer((json_int_t)s->failed_requests));
        json_object_set_new(o, "request_rate",
                            json_real(length_s > 0 ? (double)s->requests / length_s : 0));
    }
    for (int p = 0; p < LG_PHASE_COUNT; p++)
        if (tl->applies[p])
            json_object_set_new(lat, lg_stats_phase_names[p], timeline_phase_json(s->phase[p]));
    json_object_set_new(o, "latency_us", lat);
    return o;
}

static void write_csv_header(lg_timeline *tl)
{
    fputs("index,start_s,length_s,starts,greetings,rate", tl->csv);
    for (int e = 0; e < LG_ERR_COUNT; e++)
        fprintf(tl->csv, ",%s", lg_stats_error_names[e]);
    fputs(",unfinished,in_flight,established_not_greeted", tl->csv);
    if (tl->cfg->stages.n)
        fputs(",target", tl->csv);
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        if (!tl->applies[p])
            continue;
        fprintf(tl->csv, ",%s_count", lg_stats_phase_names[p]);
        for (size_t i = 0; i < NPCTS; i++)
            fprintf(tl->csv, ",%s_%s_us", lg_stats_phase_names[p], interval_pct_names[i]);
        fprintf(tl->csv, ",%s_max_us", lg_stats_phase_names[p]);
    }
    fputc('\n', tl->csv);
}

static void write_csv_row(lg_timeline *tl, int64_t k, double length_s)
{
    const lg_stats *s = &tl->acc;
    fprintf(tl->csv, "%" PRId64 ",%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%.1f", k,
            (double)k * (double)tl->clk.interval_ns / 1e9, length_s, s->starts, s->greetings,
            length_s > 0 ? (double)s->greetings / length_s : 0);
    for (int e = 0; e < LG_ERR_COUNT; e++)
        fprintf(tl->csv, ",%" PRIu64, s->errors[e]);
    fprintf(tl->csv, ",%" PRIu64 ",%ld,%ld", s->unfinished, tl->open_at_end,
            tl->established_at_end);
    if (tl->cfg->stages.n)
        fprintf(tl->csv, ",%.1f", stage_target(tl, k, length_s));
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        if (!tl->applies[p])
            continue;
        const hist *h = s->phase[p];
        fprintf(tl->csv, ",%" PRIu64, hist_count(h));
        for (size_t i = 0; i < NPCTS; i++)
            fprintf(tl->csv, ",%" PRIu64, hist_percentile(h, interval_pcts[i]));
        fprintf(tl->csv, ",%" PRIu64, hist_max(h));
    }
    fputc('\n', tl->csv);
    fflush(tl->csv);
}

static void write_hlog_lines(lg_timeline *tl, int64_t k, double length_s)
{
    double start_s = (double)k * (double)tl->clk.interval_ns / 1e9;
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        if (!tl->applies[p])
            continue;
        const hist *h = tl->acc.phase[p];
        char *encoded = hdr_encode(h);
        if (!encoded) {
            tl->oom = 1;
            continue;
        }
        hlog_write_line(tl->hlog, lg_stats_phase_names[p], start_s, length_s, hist_max(h),
                        encoded);
        free(encoded);
    }
    fflush(tl->hlog);
}

/* The interval after -d's window: only the grace in which the open connections finish. */
static int after_window(const lg_timeline *tl, int64_t k)
{
    uint64_t window_ns = (uint64_t)tl->cfg->duration_us * 1000u;
    return tl->cfg->duration_us && (uint64_t)k * tl->clk.interval_ns >= window_ns;
}

/* The progress line of a keep-alive run: its requests, not its few connections. */
static void print_request_progress(const lg_timeline *tl, double end_s, double length_s)
{
    const lg_stats *s = &tl->acc;
    const hist *r = s->phase[LG_PHASE_REQUEST];
    char p50[32], p99[32];
    fprintf(stderr,
            "loadgen: %6.1fs %8.0f requests/s, %" PRIu64 " failed, %" PRIu64 " greetings, errors %"
            PRIu64 ", in flight %ld, request p50 %s p99 %s\n",
            end_s, length_s > 0 ? (double)s->requests / length_s : 0, s->failed_requests,
            s->greetings, lg_stats_error_total(s), tl->open_at_end,
            report_human_us(p50, sizeof(p50), (double)hist_percentile(r, 50)),
            report_human_us(p99, sizeof(p99), (double)hist_percentile(r, 99)));
}

static void print_progress(const lg_timeline *tl, int64_t k, double length_s)
{
    const lg_stats *s = &tl->acc;
    if (after_window(tl, k)) { /* not a measured interval: no rate, no percentiles */
        fprintf(stderr,
                "loadgen: drain after the %.1fs window (%.2fs): %" PRIu64 " more %s, "
                "errors %" PRIu64 ", unfinished %" PRIu64 "\n",
                (double)tl->cfg->duration_us / 1e6, length_s,
                tl->cfg->requests != 1 ? s->requests : s->greetings,
                tl->cfg->requests != 1 ? "requests" : "greetings", lg_stats_error_total(s),
                s->unfinished);
        return;
    }
    const hist *g = s->phase[LG_PHASE_GREETING];
    char p50[32], p99[32];
    double end_s = (double)k * (double)tl->clk.interval_ns / 1e9 + length_s;
    char target[48] = "";
    if (tl->cfg->requests != 1)
        return print_request_progress(tl, end_s, length_s);
    if (tl->cfg->stages.n)
        snprintf(target, sizeof(target), " (stage target %.0f)", stage_target(tl, k, length_s));
    fprintf(stderr,
            "loadgen: %6.1fs %8.0f greetings/s, errors %" PRIu64 ", in flight %ld%s (%ld not "
            "greeted), greeting p50 %s p99 %s\n",
            end_s, length_s > 0 ? (double)s->greetings / length_s : 0, lg_stats_error_total(s),
            tl->open_at_end, target, tl->established_at_end, report_human_us(p50, sizeof(p50), (double)hist_percentile(g, 50)),
            report_human_us(p99, sizeof(p99), (double)hist_percentile(g, 99)));
}

/* Writes interval `next` (length_ns long) everywhere it goes, adds it to the totals and
 * starts gathering the one after. The warm-up (-1) only goes into the totals. */
static void close_interval(lg_timeline *tl, uint64_t length_ns)
{
    int64_t k = tl->next;
    double length_s = (double)length_ns / 1e9;
    if (k >= 0) {
        json_t *o = interval_json(tl, k, length_s);
        if (!o || json_array_append_new(tl->intervals, o) != 0)
            tl->oom = 1;
        if (tl->hlog)
            write_hlog_lines(tl, k, length_s);
        if (tl->csv)
            write_csv_row(tl, k, length_s);
        if (!tl->cfg->quiet)
            print_progress(tl, k, length_s);
    }
    lg_stats_merge(tl->total, &tl->acc);
    lg_stats_reset(&tl->acc);
    tl->open_at_end = tl->established_at_end = 0;
    tl->next++;
}

/* Adds every posted slice up to interval `next` into the gathering one. */
static void take_slices(lg_timeline *tl, handoff **boxes, int n)
{
    for (int i = 0; i < n; i++) {
        lg_slice *s;
        while ((s = handoff_take(boxes[i], tl->next))) {
            lg_stats_merge(&tl->acc, &s->stats);
            tl->open_at_end += s->open_at_end;
            tl->established_at_end += s->established_at_end;
            if (s->index > tl->last_seen)
                tl->last_seen = s->index;
            handoff_give_back(boxes[i], s);
        }
    }
}

void timeline_collect(lg_timeline *tl, handoff **boxes, int n)
{
    for (;;) {
        int all_passed = 1, running = 0;
        take_slices(tl, boxes, n);
        for (int i = 0; i < n && all_passed; i++) {
            all_passed = handoff_passed(boxes[i], tl->next);
            running += !handoff_finished(boxes[i]);
        }
        /* Once every worker ended, timeline_finish knows where the last interval stops. */
        if (!all_passed || !running)
            return;
        close_interval(tl, tl->clk.interval_ns);
    }
}

static int64_t oldest_posted(handoff **boxes, int n)
{
    int64_t oldest = INT64_MAX;
    for (int i = 0; i < n; i++) {
        int64_t o = handoff_oldest(boxes[i]);
        if (o < oldest)
            oldest = o;
    }
    return oldest;
}

void timeline_finish(lg_timeline *tl, handoff **boxes, int n, uint64_t end_ns)
{
    while (oldest_posted(boxes, n) != INT64_MAX || tl->next <= tl->last_seen) {
        take_slices(tl, boxes, n);
        uint64_t start = tl->clk.measure_ns + (uint64_t)(tl->next < 0 ? 0 : tl->next) *
                                                  tl->clk.interval_ns;
        uint64_t length = end_ns > start ? end_ns - start : 0;
        if (length > tl->clk.interval_ns)
            length = tl->clk.interval_ns;
        close_interval(tl, length);
    }
}

json_t *timeline_json(const lg_timeline *tl)
{
    return json_incref(tl->intervals);
}

/* ---- life cycle ---- */

static FILE *open_output(const char *option, const char *path, int *is_stdout, char *err,
                         size_t errlen)
{
    *is_stdout = strcmp(path, "-") == 0;
    FILE *f = *is_stdout ? stdout : fopen(path, "we");
    if (!f)
        snprintf(err, errlen, "%s %s: %s", option, path, strerror(errno));
    return f;
}

lg_timeline *timeline_create(const lg_config *cfg, const timeline_clock *clk,
                             const int applies[LG_PHASE_COUNT], lg_stats *total, char *err,
                             size_t errlen)
{
    lg_timeline *tl = calloc(1, sizeof(*tl));
    if (!tl || lg_stats_init(&tl->acc) != 0 || !(tl->intervals = json_array())) {
        snprintf(err, errlen, "out of memory");
        if (tl)
            lg_stats_destroy(&tl->acc);
        free(tl);
        return NULL;
    }
    tl->cfg = cfg;
    tl->clk = *clk;
    memcpy(tl->applies, applies, sizeof(tl->applies));
    tl->total = total;
    tl->next = tl->last_seen = -1;
    int hlog_stdout = 0;
    if ((cfg->hlog_path &&
         !(tl->hlog = open_output("--hlog", cfg->hlog_path, &hlog_stdout, err, errlen))) ||
        (cfg->csv_intervals_path &&
         !(tl->csv = open_output("--csv-intervals", cfg->csv_intervals_path, &tl->csv_is_stdout,
                                 err, errlen)))) {
        timeline_destroy(tl);
        return NULL;
    }
    if (hlog_stdout) { /* the log is binary-ish text for tools: never mixed into stdout */
        tl->hlog = NULL;
        snprintf(err, errlen, "--hlog needs a file name, not '-'");
        timeline_destroy(tl);
        return NULL;
    }
    if (tl->hlog) /* the lines' times count from the warm-up's end */
        hlog_write_header(tl->hlog, tl->clk.measure_unix_ns);
    if (tl->csv)
        write_csv_header(tl);
    return tl;
}

int timeline_close(lg_timeline *tl, char *err, size_t errlen)
{
    int rc = 0;
    if (tl->hlog) {
        if (ferror(tl->hlog) | fclose(tl->hlog))
            rc = -1, snprintf(err, errlen, "--hlog %s: write failed", tl->cfg->hlog_path);
        tl->hlog = NULL;
    }
    if (tl->csv) {
        int bad = ferror(tl->csv) | (tl->csv_is_stdout ? fflush(tl->csv) : fclose(tl->csv));
        if (bad)
            rc = -1, snprintf(err, errlen, "--csv-intervals %s: write failed",
                              tl->cfg->csv_intervals_path);
        tl->csv = NULL;
    }
    if (tl->oom && rc == 0)
        rc = -1, snprintf(err, errlen, "out of memory while recording intervals");
    return rc;
}

void timeline_destroy(lg_timeline *tl)
{
    if (!tl)
        return;
    if (tl->hlog)
        fclose(tl->hlog);
    if (tl->csv && !tl->csv_is_stdout)
        fclose(tl->csv);
    json_decref(tl->intervals);
    lg_stats_destroy(&tl->acc);
    free(tl);
}
