/* plot.h -- 'loadgen plot': a result (one run's or a fleet's) drawn as SVG or self-contained HTML. */
#ifndef LOADGEN_PLOT_H
#define LOADGEN_PLOT_H

#define PLOT_HELP                                                                               \
    "Draws a --json result (one run's, or a fleet's from 'loadgen merge') as an SVG picture, or\n" \
    "an HTML page holding it (self-contained: nothing is fetched): greetings/s and errors/s\n"  \
    "over time, connections in flight (and the --stage target), p50, p99 and p99.9 of each\n"  \
    "latency phase over time, and the percentile spectrum of the whole run from its full\n"    \
    "histograms. The warm-up is shaded.\n"

#include <jansson.h>
#include <stdio.h>

/* Draws a result checked by result_parse as SVG, or as an HTML page holding the SVG.
 * 0, or -1 when out of memory. */
int plot_write(FILE *out, const json_t *result, int html);

/* argv[0] is "plot". Returns the exit status: 0 drawn, 1 unreadable result or write error,
 * 2 bad usage. */
int plot_main(int argc, char **argv);

#endif
