/* hist.c -- latency histogram with HdrHistogram semantics: log-linear buckets, 3 digits. */
#include "hist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * The layout is HdrHistogram's for lowest value 1, highest HIST_HIGHEST and 3 significant
 * digits: 2048 sub-buckets per bucket (the smallest power of two >= 2 * 10^3), of which each
 * bucket after the first uses its upper half; bucket b covers [1024 << b, 2048 << b) with a
 * step of 1 << b. Counts are stored flat: index = (b + 1) * 1024 + (sub - 1024).
 */
#define SUB_BUCKET_COUNT_MAGNITUDE 11
#define SUB_BUCKET_COUNT (1 << SUB_BUCKET_COUNT_MAGNITUDE)
#define SUB_BUCKET_HALF_COUNT_MAGNITUDE (SUB_BUCKET_COUNT_MAGNITUDE - 1)
#define SUB_BUCKET_HALF_COUNT (1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE)
#define SUB_BUCKET_MASK ((uint64_t)SUB_BUCKET_COUNT - 1)
/* 2048 << 21 = 2^32 is the first power of two above HIST_HIGHEST: buckets 0..21. */
#define BUCKET_COUNT 22
#define COUNTS_LEN ((BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT)

struct hist {
    uint64_t total;
    uint64_t min; /* meaningful only when total > 0 */
    uint64_t max;
    uint64_t counts[COUNTS_LEN];
};

hist *hist_create(void)
{
    return calloc(1, sizeof(hist));
}

void hist_destroy(hist *h)
{
    free(h);
}

void hist_reset(hist *h)
{
    memset(h, 0, sizeof(*h));
}

int hist_bucket_count(void) { return BUCKET_COUNT; }
int hist_sub_bucket_count(void) { return SUB_BUCKET_COUNT; }

/* Flat counts index of a value <= HIST_HIGHEST. */
static int index_of(uint64_t value)
{
    int pow2ceiling = 64 - __builtin_clzll(value | SUB_BUCKET_MASK);
    int bucket = pow2ceiling - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
    int sub = (int)(value >> bucket);
    return ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (sub - SUB_BUCKET_HALF_COUNT);
}

/* Lowest value that lands in counts[index]. */
static uint64_t lowest_at(int index)
{
    int bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
    int sub = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if (bucket < 0) {
        sub -= SUB_BUCKET_HALF_COUNT;
        bucket = 0;
    }
    return (uint64_t)sub << bucket;
}

/* Width of the bucket holding counts[index]. */
static uint64_t width_at(int index)
{
    int bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
    return (uint64_t)1 << (bucket < 0 ? 0 : bucket);
}

static uint64_t highest_at(int index) { return lowest_at(index) + width_at(index) - 1; }
static uint64_t middle_at(int index) { return lowest_at(index) + (width_at(index) >> 1); }

int hist_index_len(void) { return COUNTS_LEN; }
uint64_t hist_count_at(const hist *h, int index) { return h->counts[index]; }
uint64_t hist_value_at(int index) { return lowest_at(index); }
int hist_index_of(uint64_t value) { return index_of(value > HIST_HIGHEST ? HIST_HIGHEST : value); }

void hist_record_n(hist *h, uint64_t value, uint64_t count)
{
    if (count == 0)
        return;
    if (value > HIST_HIGHEST)
        value = HIST_HIGHEST;
    h->counts[index_of(value)] += count;
    if (h->total == 0 || value < h->min)
        h->min = value;
    if (h->total == 0 || value > h->max)
        h->max = value;
    h->total += count;
}

void hist_record(hist *h, uint64_t value)
{
    hist_record_n(h, value, 1);
}

void hist_merge(hist *dst, const hist *src)
{
    if (src->total == 0)
        return;
    for (int i = 0; i < COUNTS_LEN; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->total == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->total += src->total;
}

int hist_set_exact_range(hist *h, uint64_t min, uint64_t max)
{
    if (h->total == 0)
        return min == 0 && max == 0 ? 0 : -1;
    if (min > max || hist_index_of(min) != index_of(h->min) || hist_index_of(max) != index_of(h->max))
        return -1;
    h->min = min;
    h->max = max;
    return 0;
}

uint64_t hist_count(const hist *h) { return h->total; }
uint64_t hist_min(const hist *h) { return h->total ? h->min : 0; }
uint64_t hist_max(const hist *h) { return h->total ? h->max : 0; }

uint64_t hist_percentile(const hist *h, double percentile)
{
    if (h->total == 0)
        return 0;
    if (!(percentile >= 0.0)) /* also catches NaN */
        percentile = 0.0;
    if (percentile > 100.0)
        percentile = 100.0;
    uint64_t rank = (uint64_t)ceil(percentile / 100.0 * (double)h->total);
    if (rank < 1)
        rank = 1;
    if (rank > h->total)
        rank = h->total;
    uint64_t seen = 0;
    int i = 0;
    for (; i < COUNTS_LEN - 1; i++) {
        seen += h->counts[i];
        if (seen >= rank)
            break;
    }
    uint64_t value = highest_at(i);
    if (value > h->max)
        value = h->max;
    if (value < h->min)
        value = h->min;
    return value;
}

double hist_mean(const hist *h)
{
    if (h->total == 0)
        return 0.0;
    double sum = 0.0;
    for (int i = 0; i < COUNTS_LEN; i++)
        if (h->counts[i])
            sum += (double)h->counts[i] * (double)middle_at(i);
    return sum / (double)h->total;
}

double hist_stddev(const hist *h)
{
    if (h->total == 0)
        return 0.0;
    double mean = hist_mean(h), sum = 0.0;
    for (int i = 0; i < COUNTS_LEN; i++) {
        if (h->counts[i]) {
            double dev = (double)middle_at(i) - mean;
            sum += dev * dev * (double)h->counts[i];
        }
    }
    return sqrt(sum / (double)h->total);
}

/* Next percentile row after `percentile`, as HdrHistogram's percentile iterator steps. */
static double next_tick(double percentile, int ticks_per_half)
{
    double halvings = floor(log2(100.0 / (100.0 - percentile))) + 1.0;
    return percentile + 100.0 / ((double)ticks_per_half * pow(2.0, halvings));
}

static void write_row(FILE *out, uint64_t value, double scale, double percentile, uint64_t cum)
{
    double fraction = percentile / 100.0;
    fprintf(out, "%12.3f %2.12f %10" PRIu64 " %14.2f\n", (double)value / scale, fraction, cum,
            1.0 / (1.0 - fraction));
}

int hist_write_hgrm(const hist *h, FILE *out, int ticks_per_half, double value_scale)
{
    if (ticks_per_half < 1)
        ticks_per_half = 1;
    if (!(value_scale > 0.0))
        value_scale = 1.0;
    fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
            "1/(1-Percentile)");
    double next = 0.0;
    uint64_t cum = 0;
    int last = 0;
    for (int i = 0; i < COUNTS_LEN && cum < h->total; i++) {
        if (h->counts[i] == 0)
            continue;
        cum += h->counts[i];
        last = i;
        double reached = 100.0 * (double)cum / (double)h->total;
        /* At the last bucket HdrHistogram prints one row, then the closing 100% row. */
        while (next <= reached) {
            write_row(out, highest_at(i), value_scale, next, cum);
            next = next_tick(next, ticks_per_half);
            if (cum == h->total)
                break;
        }
    }
    if (h->total > 0)
        fprintf(out, "%12.3f %2.12f %10" PRIu64 "\n", (double)highest_at(last) / value_scale, 1.0,
                cum);
    fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", hist_mean(h) / value_scale,
            hist_stddev(h) / value_scale);
    fprintf(out, "#[Max     = %12.3f, Total count    = %12" PRIu64 "]\n",
            (double)hist_max(h) / value_scale, h->total);
    fprintf(out, "#[Buckets = %12d, SubBuckets     = %12d]\n", BUCKET_COUNT, SUB_BUCKET_COUNT);
    return hist_write_raw(h, out);
}

int hist_write_raw(const hist *h, FILE *out)
{
    fprintf(out, "#greeter-hist v1 highest=%llu digits=%d total=%" PRIu64 " min=%" PRIu64
                 " max=%" PRIu64 "\n",
            HIST_HIGHEST, HIST_SIGNIFICANT_DIGITS, h->total, hist_min(h), hist_max(h));
    int on_line = 0;
    for (int i = 0; i < COUNTS_LEN; i++) {
        if (h->counts[i] == 0)
            continue;
        fprintf(out, "%s%d:%" PRIu64, on_line == 0 ? "#c " : " ", i, h->counts[i]);
        if (++on_line == 8) {
            fputc('\n', out);
            on_line = 0;
        }
    }
    if (on_line)
        fputc('\n', out);
    fputs("#greeter-hist end\n", out);
    return ferror(out) ? -1 : 0;
}

/* ---- reading the exact dump back: strict, for input from outside ---- */

#define MAX_LINE 4096

typedef struct parse_state {
    const char *pos, *end;
    int line_no;
    char *err;
    size_t errlen;
} parse_state;

static int parse_fail(parse_state *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int parse_fail(parse_state *ps, const char *fmt, ...)
{
    int n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line_no);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copies the next line (without its newline) into buf; 0 at end of text, -1 on a bad line. */
static int next_line(parse_state *ps, char *buf, size_t buflen, size_t *linelen)
{
    if (ps->pos >= ps->end)
        return 0;
    ps->line_no++;
    const char *nl = memchr(ps->pos, '\n', (size_t)(ps->end - ps->pos));
    const char *stop = nl ? nl : ps->end;
    size_t n = (size_t)(stop - ps->pos);
    if (n > 0 && ps->pos[n - 1] == '\r')
        n--;
    if (n >= buflen)
        return parse_fail(ps, "line longer than %zu bytes", buflen - 1);
    if (memchr(ps->pos, '\0', n))
        return parse_fail(ps, "NUL byte in text");
    memcpy(buf, ps->pos, n);
    buf[n] = '\0';
    *linelen = n;
    ps->pos = nl ? nl + 1 : ps->end;
    return 1;
}

/* Parses a decimal uint64 at *p (no sign, no spaces, at least one digit), advancing *p. */
static int parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned digit = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *p = s;
    *out = v;
    return 0;
}

/* Expects the literal `key` then a number, then a space or the end of the line. */
static int parse_field(const char **p, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    if (strncmp(*p, key, klen) != 0)
        return -1;
    *p += klen;
    if (parse_u64(p, out) != 0)
        return -1;
    if (**p == ' ')
        (*p)++;
    else if (**p != '\0')
        return -1;
    return 0;
}

typedef struct dump_header {
    uint64_t total, min, max;
} dump_header;

static int parse_header(parse_state *ps, const char *line, dump_header *hd)
{
    const char *p = line + strlen("#greeter-hist v1 ");
    uint64_t highest, digits;
    if (parse_field(&p, "highest=", &highest) || parse_field(&p, "digits=", &digits) ||
        parse_field(&p, "total=", &hd->total) || parse_field(&p, "min=", &hd->min) ||
        parse_field(&p, "max=", &hd->max) || *p != '\0')
        return parse_fail(ps, "malformed header (want highest=N digits=N total=N min=N max=N)");
    if (highest != HIST_HIGHEST || digits != HIST_SIGNIFICANT_DIGITS)
        return parse_fail(ps, "layout highest=%" PRIu64 " digits=%" PRIu64
                              " differs from this build's highest=%llu digits=%d",
                          highest, digits, HIST_HIGHEST, HIST_SIGNIFICANT_DIGITS);
    if (hd->max > HIST_HIGHEST || hd->min > hd->max)
        return parse_fail(ps, "min=%" PRIu64 " max=%" PRIu64 " out of range", hd->min, hd->max);
    return 0;
}

/* Parses "#c I:C I:C ..." into scratch; indices must rise across the whole dump. */
static int parse_counts(parse_state *ps, const char *line, hist *scratch, int *last_index)
{
    const char *p = line + 2;
    while (*p == ' ') {
        p++;
        uint64_t index, count;
        if (parse_u64(&p, &index) || *p++ != ':' || parse_u64(&p, &count))
            return parse_fail(ps, "malformed bucket (want INDEX:COUNT)");
        if (index >= (uint64_t)COUNTS_LEN || (int)index <= *last_index)
            return parse_fail(ps, "bucket index %" PRIu64 " out of order or range (0-%d)", index,
                              COUNTS_LEN - 1);
        if (count == 0 || scratch->total > UINT64_MAX - count)
            return parse_fail(ps, "bucket count %" PRIu64 " zero or too large", count);
        scratch->counts[index] = count;
        scratch->total += count;
        *last_index = (int)index;
    }
    if (*p != '\0' || p == line + 2)
        return parse_fail(ps, "malformed bucket line");
    return 0;
}

/* Checks that the buckets agree with the header's total, min and max. */
static int check_dump(parse_state *ps, const dump_header *hd, hist *scratch, int last_index)
{
    if (scratch->total != hd->total)
        return parse_fail(ps, "buckets hold %" PRIu64 " values but header says total=%" PRIu64,
                          scratch->total, hd->total);
    if (hd->total == 0)
        return hd->min == 0 && hd->max == 0 ? 0 : parse_fail(ps, "empty dump with min/max");
    int first = 0;
    while (scratch->counts[first] == 0)
        first++;
    if (index_of(hd->min) != first || index_of(hd->max) != last_index)
        return parse_fail(ps, "min=%" PRIu64 " max=%" PRIu64 " disagree with the buckets",
                          hd->min, hd->max);
    scratch->min = hd->min;
    scratch->max = hd->max;
    return 0;
}

int hist_parse(const char *text, size_t len, hist *h, char *err, size_t errlen)
{
    parse_state ps = {text, text + len, 0, err, errlen};
    /* Zeroed once so that nothing past a short line's NUL is ever indeterminate (and the
     * static analyzer, which cannot follow strncmp, agrees). */
    char line[MAX_LINE] = {0};
    size_t linelen;
    int rc, inside = 0, dumps = 0, last_index = -1;
    dump_header hd = {0, 0, 0};
    hist *scratch = hist_create();
    if (!scratch) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while ((rc = next_line(&ps, line, sizeof(line), &linelen)) > 0) {
        (void)linelen;
        if (!inside && strncmp(line, "#greeter-hist v1 ", 17) == 0) {
            if (dumps++ > 0) {
                rc = parse_fail(&ps, "more than one histogram dump");
                break;
            }
            if ((rc = parse_header(&ps, line, &hd)) != 0)
                break;
            inside = 1;
        } else if (inside && strcmp(line, "#greeter-hist end") == 0) {
            if ((rc = check_dump(&ps, &hd, scratch, last_index)) != 0)
                break;
            inside = 0;
        } else if (inside && strncmp(line, "#c ", 3) == 0) {
            if ((rc = parse_counts(&ps, line, scratch, &last_index)) != 0)
                break;
        } else if (inside || strncmp(line, "#greeter-hist", 13) == 0) {
            rc = parse_fail(&ps, "unexpected line in histogram dump");
            break;
        }
    }
    if (rc == 0 && inside)
        rc = parse_fail(&ps, "histogram dump not terminated by '#greeter-hist end'");
    if (rc == 0 && dumps == 0) {
        snprintf(err, errlen, "no exact histogram dump ('#greeter-hist v1') found");
        rc = -1;
    }
    if (rc == 0)
        hist_merge(h, scratch);
    hist_destroy(scratch);
    return rc == 0 ? 0 : -1;
}
