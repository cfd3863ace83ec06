/* plot.c -- 'loadgen plot': a result (one run's or a fleet's) drawn as SVG or self-contained HTML. */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "result.h"
#include "svg.h"

#define PLOT_USAGE "usage: loadgen plot RESULT.json -o FILE.svg|FILE.html"
#define PLOT_WIDTH 1100
#define PLOT_LEFT 90
#define PLOT_RIGHT 60
#define PLOT_SPECTRUM_POINTS 200

static const char *const percentile_names[] = {"p50", "p99", "p99.9"};
static const char *const percentile_keys[] = {"p50", "p99", "p999"};
static const char *const percentile_colors[] = {"#2b7bba", "#f28e2b", "#d62728"};

/* A phase's colour in the spectrum: the same phase has the same colour everywhere. */
static const char *phase_color(const char *phase)
{
    static const struct {
        const char *name, *color;
    } colors[] = {{"connect", "#59a14f"}, {"tls", "#b07aa1"}, {"first_byte", "#f28e2b"},
                  {"greeting", "#2b7bba"}, {"greeting_uncorrected", "#9c755f"},
                  {"request", "#e15759"},  {"expect1", "#76b7b2"}, {"expect2", "#edc948"},
                  {"expect3", "#ff9da7"},  {"expect4", "#4e79a7"}, {"expect5", "#8cd17d"},
                  {"expect6", "#b6992d"},  {"expect7", "#d37295"}, {"expect8", "#a0cbe8"}};
    for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
        if (strcmp(colors[i].name, phase) == 0)
            return colors[i].color;
    return "#555555";
}

/* The time series of a result: one point per interval, at its middle. */
typedef struct timeline_points {
    size_t n;
    double *t;          /* seconds after the warm-up, at each interval's middle */
    double *t_end;      /* and at its end, where in_flight and target are taken */
    double *greetings;  /* per second */
    double *errors;     /* per second */
    double *in_flight;  /* at the interval's end */
    double *target;     /* the --stage target, NaN when the result has none */
    double start, end;  /* the time axis: from the warm-up's start to the last interval's end */
    double measured;    /* the measured window's length (duration_s) */
    double stage_s[16]; /* the first --stage durations (the plan starts with the warm-up) */
    size_t nstages;
    int has_target;
} timeline_points;

static void points_free(timeline_points *p)
{
    free(p->t);
    free(p->t_end);
    free(p->greetings);
    free(p->errors);
    free(p->in_flight);
    free(p->target);
}

static int points_load(const json_t *result, timeline_points *p)
{
    const json_t *intervals = json_object_get(result, "intervals"), *iv;
    size_t i, n = json_array_size(intervals), size = (n ? n : 1) * sizeof(double);
    memset(p, 0, sizeof(*p));
    p->n = n;
    p->t = calloc(1, size), p->greetings = calloc(1, size), p->errors = calloc(1, size);
    p->in_flight = calloc(1, size), p->target = calloc(1, size), p->t_end = calloc(1, size);
    if (!p->t || !p->t_end || !p->greetings || !p->errors || !p->in_flight || !p->target)
        return -1;
    p->start = -result_number(result, "warmup_s");
    p->measured = result_number(result, "duration_s");
    const json_t *stages = json_object_get(result, "stages"), *st;
    json_array_foreach(stages, i, st) {
        if (p->nstages < sizeof(p->stage_s) / sizeof(p->stage_s[0]))
            p->stage_s[p->nstages++] = fmax(0, result_number(st, "duration_s"));
    }
    json_array_foreach(intervals, i, iv) {
        double start = result_number(iv, "start_s"), length = result_number(iv, "length_s");
        const json_t *target = json_object_get(iv, "target");
        /* The grace after -d holds only the stragglers: a rate over it would show a fall that
         * never happened. Its counts are in the totals; the picture stops at the window. */
        if (i > 0 && start >= p->measured - 1e-9) {
            p->n = i;
            break;
        }
        p->t[i] = start + length / 2;
        p->t_end[i] = start + length;
        p->greetings[i] = result_number(iv, "rate");
        p->errors[i] = length > 0 ? (double)result_int(json_object_get(iv, "errors"), "total") / length : 0;
        p->in_flight[i] = (double)result_int(iv, "in_flight");
        p->target[i] = json_is_number(target) ? json_number_value(target) : NAN;
        p->has_target |= json_is_number(target);
        p->end = fmax(p->end, start + length);
    }
    if (p->end <= 0)
        p->end = fmax(p->measured, 1);
    return 0;
}

static double series_max(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            m = fmax(m, v[i]);
    return m;
}

/* A chart over the run's time axis, the warm-up shaded. */
static svg_chart time_chart(FILE *out, const timeline_points *p, double left, double top,
                            double width, double height, svg_axis yaxis, double y0, double y1)
{
    svg_chart c = {out, left, top, width, height, SVG_AXIS_LINEAR, yaxis, p->start, p->end, y0, y1};
    svg_chart_nice(&c);
    c.x0 = p->start; /* the time axis starts at the warm-up exactly, even when it is not round */
    return c;
}

/* The warm-up shaded, and the end of each --stage but the last marked. */
static void mark_warmup(const svg_chart *c, const timeline_points *p)
{
    if (p->start < 0)
        svg_chart_band(c, p->start, 0, "warm-up (not measured)");
    double at = p->start;
    for (size_t i = 0; i + 1 < p->nstages; i++) {
        char label[32];
        at += p->stage_s[i];
        snprintf(label, sizeof(label), "stage %zu", i + 2);
        if (at > p->start && at < p->end)
            svg_chart_mark(c, at, label);
    }
}

static void draw_throughput(FILE *out, const timeline_points *p, double top)
{
    svg_chart c = time_chart(out, p, PLOT_LEFT, top, PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT, 210,
                             SVG_AXIS_LINEAR, 0,
                             fmax(series_max(p->greetings, p->n), series_max(p->errors, p->n)));
    mark_warmup(&c, p);
    svg_chart_axes(&c, "Throughput", "time since the warm-up ended (s)", "per second");
    svg_series s[] = {{"greetings/s", "#2b7bba", NULL, p->t, p->greetings, p->n},
                      {"errors/s", "#d62728", NULL, p->t, p->errors, p->n}};
    svg_chart_series(&c, s, 2);
}

static void draw_in_flight(FILE *out, const timeline_points *p, const json_t *result, double top)
{
    int open_loop = strcmp(json_string_value(json_object_get(result, "mode")), "open") == 0;
    double ymax = series_max(p->in_flight, p->n);
    if (p->has_target && !open_loop)
        ymax = fmax(ymax, series_max(p->target, p->n));
    svg_chart c = time_chart(out, p, PLOT_LEFT, top, PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT, 150,
                             SVG_AXIS_LINEAR, 0, ymax);
    mark_warmup(&c, p);
    svg_chart_axes(&c, "Connections in flight", "time since the warm-up ended (s)", "connections");
    svg_series s[] = {{"in flight (interval end)", "#59a14f", NULL, p->t_end, p->in_flight, p->n},
                      {"stage target", "#8a7f6a", "6 4", p->t_end, p->target, p->n}};
    svg_chart_series(&c, s, p->has_target && !open_loop ? 2 : 1);
}

/* Percentile key of the first n intervals' phase, in µs (NaN where it had no sample). */
static void phase_series(const json_t *result, const char *phase, const char *key, double *out,
                         size_t n)
{
    const json_t *iv;
    size_t i;
    json_array_foreach(json_object_get(result, "intervals"), i, iv) {
        if (i == n)
            break;
        const json_t *ph = json_object_get(json_object_get(iv, "latency_us"), phase);
        out[i] = ph && result_int(ph, "count") > 0 ? (double)result_int(ph, key) : NAN;
    }
}

/* One small chart per phase: p50, p99 and p99.9 of each interval, on a log scale. */
static int draw_latency(FILE *out, const timeline_points *p, const json_t *result, double top,
                        double *bottom)
{
    const json_t *latency = json_object_get(result, "latency_us"), *phase;
    const char *name;
    double width = (PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT - 70) / 2.0, height = 170;
    int k = 0;
    double *v[3];
    size_t size = (p->n ? p->n : 1) * sizeof(double);
    v[0] = malloc(size), v[1] = malloc(size), v[2] = malloc(size);
    int rc = v[0] && v[1] && v[2] ? 0 : -1;
    json_object_foreach((json_t *)latency, name, phase) {
        if (rc != 0)
            break;
        double lo = INFINITY, hi = 0;
        for (int j = 0; j < 3; j++) {
            phase_series(result, name, percentile_keys[j], v[j], p->n);
            for (size_t i = 0; i < p->n; i++)
                if (v[j][i] > 0)
                    lo = fmin(lo, v[j][i]), hi = fmax(hi, v[j][i]);
        }
        double left = PLOT_LEFT + (k % 2) * (width + 70), y = top + floor(k / 2.0) * (height + 75);
        svg_chart c = time_chart(out, p, left, y, width, height, SVG_AXIS_MS_LOG,
                                 isinf(lo) ? 100 : lo, hi > 0 ? hi : 1000);
        char title[96];
        snprintf(title, sizeof(title), "Latency: %s", name);
        mark_warmup(&c, p);
        svg_chart_axes(&c, title, "time since the warm-up ended (s)", "latency (log scale)");
        svg_series s[3];
        for (int j = 0; j < 3; j++)
            s[j] = (svg_series){percentile_names[j], percentile_colors[j], NULL, p->t, v[j], p->n};
        svg_chart_series(&c, s, 3);
        *bottom = y + height;
        k++;
    }
    for (int j = 0; j < 3; j++)
        free(v[j]);
    return rc;
}

/* The whole run's percentile spectrum per phase, from its full histogram. */
static int draw_spectrum(FILE *out, const json_t *result, double top)
{
    const json_t *latency = json_object_get(result, "latency_us"), *phase;
    const char *name;
    enum { MAX_PHASES = 16 };
    double xs[MAX_PHASES][PLOT_SPECTRUM_POINTS], ys[MAX_PHASES][PLOT_SPECTRUM_POINTS];
    svg_series s[MAX_PHASES];
    double lo = INFINITY, hi = 0, nines = 1;
    int n = 0, rc = 0;
    hist *h = hist_create();
    if (!h)
        return -1;
    json_object_foreach((json_t *)latency, name, phase) {
        char err[RESULT_ERRLEN];
        hist_reset(h);
        if (n == MAX_PHASES || result_phase_hist(phase, h, err, sizeof(err)) != 0 || !hist_count(h))
            continue;
        /* Beyond log10(count) nines every percentile is the maximum: stop there. */
        double top_nines = fmax(1, log10((double)hist_count(h)));
        for (int i = 0; i < PLOT_SPECTRUM_POINTS; i++) {
            double t = top_nines * i / (PLOT_SPECTRUM_POINTS - 1);
            xs[n][i] = 100.0 - 100.0 * pow(10, -t);
            ys[n][i] = (double)hist_percentile(h, xs[n][i]);
            lo = fmin(lo, fmax(ys[n][i], 1));
            hi = fmax(hi, ys[n][i]);
        }
        nines = fmax(nines, top_nines);
        s[n] = (svg_series){name, phase_color(name), strstr(name, "uncorrected") ? "6 4" : NULL,
                            xs[n], ys[n], PLOT_SPECTRUM_POINTS};
        n++;
    }
    hist_destroy(h);
    svg_chart c = {out, PLOT_LEFT, top, PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT, 240,
                   SVG_AXIS_NINES, SVG_AXIS_MS_LOG, 0, 100.0 - 100.0 * pow(10, -nines),
                   isinf(lo) ? 100 : lo, hi > 0 ? hi : 1000};
    svg_chart_nice(&c);
    svg_chart_axes(&c, "Percentile spectrum of the whole run (measured part)",
                   "percentile (log scale of 1/(1-p))", "latency (log scale)");
    svg_chart_series(&c, s, n);
    return rc;
}

/* The heading: what was run and its headline figures. */
static void draw_heading(FILE *out, const json_t *result)
{
    char line[512];
    const json_t *greeting = json_object_get(json_object_get(result, "latency_us"), "greeting");
    snprintf(line, sizeof(line), "loadgen: %s (%s, %s loop)",
             json_string_value(json_object_get(result, "target")),
             json_string_value(json_object_get(result, "transport")),
             json_string_value(json_object_get(result, "mode")));
    svg_text(out, PLOT_LEFT, 30, "start", "heading", line);
    snprintf(line, sizeof(line), "from %s on %s: %.1f s measured after %.1f s of warm-up",
             json_string_value(json_object_get(result, "start_time")),
             json_string_value(json_object_get(result, "host")) ? json_string_value(json_object_get(result, "host")) : "?",
             result_number(result, "duration_s"), result_number(result, "warmup_s"));
    svg_text(out, PLOT_LEFT, 50, "start", "note", line);
    snprintf(line, sizeof(line),
             "%lld greetings (%.0f/s), %lld errors; greeting latency p50 %.3f ms, p99 %.3f ms, "
             "p99.9 %.3f ms, max %.3f ms",
             result_int(result, "greetings"), result_number(result, "rate"),
             result_int(json_object_get(result, "errors"), "total"),
             (double)result_int(greeting, "p50") / 1e3, (double)result_int(greeting, "p99") / 1e3,
             (double)result_int(greeting, "p999") / 1e3, (double)result_int(greeting, "max") / 1e3);
    svg_text(out, PLOT_LEFT, 68, "start", "note", line);
}

/* Writes the whole picture; 0, or -1 when out of memory. */
static int write_svg(FILE *out, const json_t *result)
{
    timeline_points p;
    int phases = (int)json_object_size(json_object_get(result, "latency_us"));
    double latency_top = 105 + 210 + 80 + 150 + 80, bottom = latency_top;
    double height = latency_top + ceil(phases / 2.0) * (170 + 75) + 240 + 90;
    if (points_load(result, &p) != 0) {
        points_free(&p);
        return -1;
    }
    svg_begin(out, PLOT_WIDTH, (int)height);
    draw_heading(out, result);
    draw_throughput(out, &p, 105);
    draw_in_flight(out, &p, result, 105 + 210 + 80);
    int rc = draw_latency(out, &p, result, latency_top, &bottom);
    if (rc == 0)
        rc = draw_spectrum(out, result, bottom + 80);
    svg_end(out);
    points_free(&p);
    return rc;
}

/* The HTML page: the same SVG inline, nothing fetched from anywhere. */
static int write_html(FILE *out, const json_t *result)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>loadgen result</title>\n"
          "<style>body{margin:16px;background:#fff;color:#222}</style>\n</head>\n<body>\n",
          out);
    int rc = write_svg(out, result);
    fputs("</body>\n</html>\n", out);
    return rc;
}

int plot_write(FILE *out, const json_t *result, int html)
{
    return html ? write_html(out, result) : write_svg(out, result);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int usage(const char *what)
{
    fprintf(stderr, "loadgen plot: %s (%s)\n", what, PLOT_USAGE);
    return 2;
}

int plot_main(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return printf("%s\n%s", PLOT_USAGE, PLOT_HELP), 0;
        if (strcmp(argv[i], "-o") == 0) {
            if (++i == argc)
                return usage("-o needs a file name");
            out_path = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("unknown option");
        } else if (in_path) {
            return usage("one result at a time (merge a fleet's first: loadgen merge)");
        } else {
            in_path = argv[i];
        }
    }
    if (!in_path || !out_path)
        return usage(!in_path ? "no result given" : "no -o FILE given");
    int html = has_suffix(out_path, ".html") || has_suffix(out_path, ".htm");
    if (!html && !has_suffix(out_path, ".svg"))
        return usage("-o FILE must end in .svg or .html");
    char err[RESULT_ERRLEN];
    json_t *result = result_load(in_path, err, sizeof(err));
    if (!result)
        return fprintf(stderr, "loadgen plot: %s: %s\n", in_path, err), 1;
    FILE *out = fopen(out_path, "we");
    int rc = !out ? -1 : plot_write(out, result, html);
    int saved = errno;
    if (out && (fclose(out) != 0 || rc != 0) && rc == 0)
        rc = -1, saved = errno;
    json_decref(result);
    if (rc != 0)
        return fprintf(stderr, "loadgen plot: writing %s: %s\n", out_path, strerror(saved)), 1;
    return 0;
}
