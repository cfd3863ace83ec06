/* hlog.h -- HdrHistogram interval logs (as HistogramLogWriter writes them): a header, then a
 * line per phase and interval holding its histogram. */
#ifndef LOADGEN_HLOG_H
#define LOADGEN_HLOG_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The header: the lines' timestamps are seconds after base_unix_ns (the warm-up's end). */
void hlog_write_header(FILE *out, uint64_t base_unix_ns);

/* One interval of one phase (the tag): its start and length in seconds, its largest value in
 * microseconds, and its histogram in HdrHistogram's compressed encoding (hdr_codec.h). */
void hlog_write_line(FILE *out, const char *tag, double start_s, double length_s, uint64_t max_us,
                     const char *encoded);

/* The whole log of a --json result (one run's, or a fleet's from 'loadgen merge'): every
 * interval's phases, from the histograms the result holds. 0, or -1 when a write failed or
 * the result lacks them. */
int hlog_write_result(FILE *out, const json_t *result);

#ifdef __cplusplus
}
#endif
#endif
