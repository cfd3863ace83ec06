/* shard.c -- one process's part of a fleet run: --shard I/N shares and --start-at times. */
#include "shard.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

#define NS_PER_S 1000000000LL
#define START_AT_FORMS "a Unix time such as 1764300000 or RFC 3339 such as 2026-11-28T04:00:00Z"

int shard_parse(const char *text, shard_spec *out, char *err, size_t errlen)
{
    char index[32], count[32];
    const char *slash = strchr(text, '/');
    size_t ilen = slash ? (size_t)(slash - text) : 0;
    if (!slash || ilen == 0 || ilen >= sizeof(index) || strlen(slash + 1) >= sizeof(count)) {
        snprintf(err, errlen, "--shard: '%s' is not I/N (shard I of N, counting from 0: 0/4 to 3/4)",
                 text);
        return -1;
    }
    memcpy(index, text, ilen);
    index[ilen] = '\0';
    memcpy(count, slash + 1, strlen(slash + 1) + 1);
    if (parse_long("--shard N", count, 1, SHARD_MAX, &out->count, err, errlen) != 0 ||
        parse_long("--shard I", index, 0, out->count - 1, &out->index, err, errlen) != 0)
        return -1;
    return 0;
}

long long shard_share(long long total, const shard_spec *s)
{
    return total / s->count + (s->index < total % s->count ? 1 : 0);
}

double shard_share_rate(double rate, const shard_spec *s)
{
    return rate / (double)s->count;
}

void shard_slice(size_t n, const shard_spec *s, size_t *first, size_t *len)
{
    size_t count = (size_t)s->count, index = (size_t)s->index;
    size_t base = n / count, extra = n % count;
    /* The first `extra` shards take base + 1 items each, the others base. */
    *first = index * base + (index < extra ? index : extra);
    *len = base + (index < extra ? 1 : 0);
}

uint64_t shard_seed(uint64_t seed, const shard_spec *s)
{
    /* splitmix64's finaliser over seed and index: neighbouring shards get unrelated streams,
     * unlike seed + index, which would overlap the per-thread offsets engine.c adds. */
    uint64_t z = seed + ((uint64_t)s->index + 1) * 0xd1b54a32d192ed03ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Reads exactly n decimal digits at *p into *v and advances *p; 0, or -1. */
static int fixed_digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return -1;
        *v = *v * 10 + (ch - '0');
    }
    *p += n;
    return 0;
}

/* Reads an optional ".digits" fraction of a second into nanoseconds (extra digits ignored). */
static int fraction_ns(const char **p, int64_t *ns)
{
    *ns = 0;
    if (**p != '.')
        return 0;
    (*p)++;
    int64_t scale = NS_PER_S / 10;
    if (**p < '0' || **p > '9')
        return -1;
    for (; **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
        *ns += (**p - '0') * scale;
    return 0;
}

/* Days from 1970-01-01 to a civil date (proleptic Gregorian; Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* The zone suffix: Z, or +HH:MM / -HH:MM; writes the offset east of UTC in seconds. */
static int zone_offset(const char **p, int64_t *offset_s)
{
    int hh, mm;
    char sign = **p;
    if (sign == 'Z' || sign == 'z') {
        (*p)++;
        *offset_s = 0;
        return 0;
    }
    if (sign != '+' && sign != '-')
        return -1;
    (*p)++;
    if (fixed_digits(p, 2, &hh) != 0 || *(*p)++ != ':' || fixed_digits(p, 2, &mm) != 0 ||
        hh > 23 || mm > 59)
        return -1;
    *offset_s = (sign == '-' ? -1 : 1) * ((int64_t)hh * 3600 + (int64_t)mm * 60);
    return 0;
}

/* secs (and frac ns) since 1970 as nanoseconds; -1 past 2262, where int64_t ns end. */
static int seconds_to_ns(int64_t secs, int64_t frac, int64_t *out_ns)
{
    if (secs < 0 || secs > (INT64_MAX - NS_PER_S) / NS_PER_S)
        return -1;
    *out_ns = secs * NS_PER_S + frac;
    return 0;
}

static int parse_rfc3339(const char *p, int64_t *out_ns)
{
    int y, mo, d, h, mi, s;
    int64_t frac, offset;
    if (fixed_digits(&p, 4, &y) || *p++ != '-' || fixed_digits(&p, 2, &mo) || *p++ != '-' ||
        fixed_digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (fixed_digits(&p, 2, &h) || *p++ != ':' || fixed_digits(&p, 2, &mi) || *p++ != ':' ||
        fixed_digits(&p, 2, &s) || fraction_ns(&p, &frac) || zone_offset(&p, &offset) || *p)
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s - offset;
    return seconds_to_ns(secs, frac, out_ns);
}

static int parse_unix(const char *p, int64_t *out_ns)
{
    int64_t secs = 0, frac;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 11)
            return -1; /* far past what nanoseconds since 1970 hold: refused before overflow */
        secs = secs * 10 + (*p - '0');
    }
    if (digits == 0 || fraction_ns(&p, &frac) != 0 || *p)
        return -1;
    return seconds_to_ns(secs, frac, out_ns);
}

int shard_parse_time(const char *text, int64_t *out_ns, char *err, size_t errlen)
{
    int rc = strchr(text, '-') ? parse_rfc3339(text, out_ns) : parse_unix(text, out_ns);
    if (rc != 0 || *out_ns <= 0) {
        snprintf(err, errlen, "--start-at: '%s' is not a time (give %s)", text, START_AT_FORMS);
        return -1;
    }
    return 0;
}
