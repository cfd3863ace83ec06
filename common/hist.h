/* hist.h -- latency histogram with HdrHistogram semantics: log-linear buckets, 3 digits. */
#ifndef GREETER_HIST_H
#define GREETER_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every histogram has the same fixed layout, so merging is an exact sum of bucket counts:
 * values are unsigned integers (loadgen records microseconds), tracked from 1 to
 * HIST_HIGHEST (one hour in microseconds) with 3 significant decimal digits: a recorded value
 * v lands in a bucket whose width is at most v/1024 (values below 2048 are exact). Values above
 * HIST_HIGHEST are clamped to it and still counted; hist_record never drops a value.
 *
 * A histogram is not thread safe: give each thread its own and merge them after joining.
 */
#define HIST_HIGHEST 3600000000ull
#define HIST_SIGNIFICANT_DIGITS 3
#define HIST_ERRLEN 256

typedef struct hist hist;

/* Allocates an empty histogram (about 190 KB); NULL when out of memory. The caller owns it
 * and releases it with hist_destroy (which accepts NULL). */
hist *hist_create(void);
void hist_destroy(hist *h);

/* Empties h without freeing it. */
void hist_reset(hist *h);

/* Counts one value (clamped to HIST_HIGHEST). */
void hist_record(hist *h, uint64_t value);

/* Counts `count` occurrences of one value at once. */
void hist_record_n(hist *h, uint64_t value, uint64_t count);

/* Adds every count of src into dst; exact: the result equals one histogram fed both inputs. */
void hist_merge(hist *dst, const hist *src);

/* Number of values recorded. */
uint64_t hist_count(const hist *h);

/* Exact smallest and largest recorded values (after clamping); 0 when empty. */
uint64_t hist_min(const hist *h);
uint64_t hist_max(const hist *h);

/*
 * The value at a percentile (0..100; outside is clamped) by nearest rank: the highest value
 * equivalent to the bucket holding the ceil(p/100 * count)-th value (at least the first), as
 * HdrHistogram's getValueAtPercentile, so its tools read the same percentiles from our logs;
 * limited to [hist_min, hist_max]. Within 1/1024 of the exact value. 0 when empty.
 */
uint64_t hist_percentile(const hist *h, double percentile);

/* Mean and standard deviation over the buckets' middle values, as HdrHistogram computes them.
 * 0 when empty. */
double hist_mean(const hist *h);
double hist_stddev(const hist *h);

/*
 * The counts in HdrHistogram's flat index order (the order its V2 encoding writes them), for
 * encoders and decoders: the array's length, the count at an index, the lowest value that
 * lands at an index, and the index a value lands at (values above HIST_HIGHEST are clamped).
 */
int hist_index_len(void);
uint64_t hist_count_at(const hist *h, int index);
uint64_t hist_value_at(int index);
int hist_index_of(uint64_t value);

/*
 * Sets the exact smallest and largest values of h, whose counts came from an encoding that
 * keeps only buckets (HdrHistogram's): min and max must lie in the buckets of h's current
 * smallest and largest values. 0, or -1 when they do not (h is then unchanged).
 */
int hist_set_exact_range(hist *h, uint64_t min, uint64_t max);

/* Layout figures printed in the .hgrm footer: buckets (powers of two) and sub-buckets. */
int hist_bucket_count(void);
int hist_sub_bucket_count(void);

/*
 * Writes HdrHistogram's percentile distribution (outputPercentileDistribution): the
 * "Value Percentile TotalCount 1/(1-Percentile)" table with ticks_per_half rows per halving
 * of the remaining distance to 100%, then the #[Mean ...], #[Max ...], #[Buckets ...] footer.
 * Values are divided by value_scale (1000 turns microseconds into the milliseconds the usual
 * plotters expect). Then, as '#' comment lines that plotters skip, the exact bucket counts
 * (hist_write_raw) so that hist_parse can read the file back without loss.
 * Returns 0, or -1 when the stream reported a write error.
 */
int hist_write_hgrm(const hist *h, FILE *out, int ticks_per_half, double value_scale);

/*
 * Writes only the exact bucket dump:
 *   #greeter-hist v1 highest=3600000000 digits=3 total=N min=N max=N
 *   #c INDEX:COUNT INDEX:COUNT ...     (non-zero buckets, increasing index, 8 per line)
 *   #greeter-hist end
 */
int hist_write_raw(const hist *h, FILE *out);

/*
 * Reads the exact bucket dump found in text (len bytes, need not be NUL-terminated; other
 * lines such as the percentile table are skipped) and adds its counts into h. Returns 0, or
 * -1 with "line N: why" in err when the text has no dump, has a malformed, inconsistent or
 * out-of-range one, or more than one. On failure h is left unchanged. Allocates nothing
 * beyond a scratch histogram released before returning.
 */
int hist_parse(const char *text, size_t len, hist *h, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
