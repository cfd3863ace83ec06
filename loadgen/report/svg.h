/* svg.h -- small SVG charts for 'loadgen plot': axes with ticks, series, bands and legends. */
#ifndef LOADGEN_SVG_H
#define LOADGEN_SVG_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SVG_AXIS_LINEAR, /* plain numbers, "nice" ticks of 1, 2 or 5 x 10^k */
    SVG_AXIS_MS_LOG, /* microseconds drawn on a log scale, ticks labelled 0.1 ms ... 10 s */
    SVG_AXIS_NINES   /* percentiles drawn as log10(1 / (1 - p)): 0%, 90%, 99%, 99.9%, ... */
} svg_axis;

/* One chart: its plot area in pixels and the data range it shows. The writer draws in data
 * units; the chart maps them. */
typedef struct svg_chart {
    FILE *out;
    double left, top, width, height; /* the plot area (axes' labels go outside it) */
    svg_axis xaxis, yaxis;
    double x0, x1, y0, y1;           /* data range (for log axes: the values, not logs) */
} svg_chart;

/* A series: n points (NaN y = a gap), a stroke colour and an optional dash pattern. */
typedef struct svg_series {
    const char *name;
    const char *color;
    const char *dash; /* NULL = solid, else e.g. "6 3" */
    const double *x, *y;
    size_t n;
} svg_series;

/* Starts a document of width x height pixels with the styles every chart uses; svg_end ends it. */
void svg_begin(FILE *out, int width, int height);
void svg_end(FILE *out);

/* Text at (x, y) with class cls ("title", "label", "note"), anchored "start", "middle" or
 * "end"; the text is XML-escaped. */
void svg_text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *text);

/* Widens the data range so that the axis' ticks fall on round values (the lower bound of a
 * linear axis stays where it is). */
void svg_chart_nice(svg_chart *c);

/* Draws the frame, grid, ticks and their labels, the title above and the axis labels. */
void svg_chart_axes(const svg_chart *c, const char *title, const char *xlabel, const char *ylabel);

/* A shaded vertical band from x = a to b with a label at its top (the warm-up). */
void svg_chart_band(const svg_chart *c, double a, double b, const char *label);

/* A dashed vertical line at x with a label (a stage boundary). */
void svg_chart_mark(const svg_chart *c, double x, const char *label);

/* Draws the series as polylines, and their legend in the plot area's top-left corner. */
void svg_chart_series(const svg_chart *c, const svg_series *series, int n);

#ifdef __cplusplus
}
#endif
#endif
