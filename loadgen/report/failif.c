/* failif.c -- --fail-if: conditions a run must meet (latency, errors, rate), parsed and judged. */
#include "failif.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *text, const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "--fail-if '%s': %s; %s", text, why, FAILIF_GRAMMAR);
    return -1;
}

/* "p99" -> 99, "p999" -> 99.9, "p99.9" -> 99.9, "p50" -> 50, "max" -> 100; -1 if none. */
static double parse_percentile(const char *p, size_t len)
{
    char digits[16];
    if (len == 3 && strncmp(p, "max", 3) == 0)
        return 100;
    if (len < 2 || len >= sizeof(digits) || p[0] != 'p')
        return -1;
    memcpy(digits, p + 1, len - 1);
    digits[len - 1] = '\0';
    if (strspn(digits, "0123456789.") != len - 1 || digits[0] == '.')
        return -1;
    char *end;
    double v = strtod(digits, &end);
    if (*end)
        return -1;
    /* HdrHistogram's names without a dot: two digits, then decimals (p999 is 99.9); only
     * nines-led ones are read so (p101 is no percentile). */
    if (!strchr(digits, '.') && strcmp(digits, "100") != 0 && strlen(digits) > 2) {
        if (digits[0] != '9')
            return -1;
        for (size_t i = 2; i < strlen(digits); i++)
            v /= 10;
    }
    return v > 0 && v <= 100 ? v : -1;
}

static int phase_named(const char *name, size_t len)
{
    for (int p = 0; p < LG_PHASE_COUNT; p++)
        if (strlen(lg_stats_phase_names[p]) == len && strncmp(name, lg_stats_phase_names[p], len) == 0)
            return p;
    return -1;
}

/* The metric before the operator: sets kind, phase, percentile. -1 when unknown. */
static int parse_metric(const char *m, size_t len, failif_cond *c)
{
    static const struct { const char *name; failif_kind kind; } plain[] = {
        {"errors", FAILIF_ERRORS}, {"rate", FAILIF_RATE}, {"unfinished", FAILIF_UNFINISHED}};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strlen(plain[i].name) == len && strncmp(m, plain[i].name, len) == 0)
            return c->kind = plain[i].kind, 0;
    const char *dot = memchr(m, '.', len);
    c->kind = FAILIF_LATENCY;
    c->phase = LG_PHASE_GREETING;
    /* PHASE.pNN or PHASE.max; in "p99.9" alone the dot follows a digit. */
    if (dot && (dot[1] == 'p' || dot[1] == 'm')) {
        c->phase = phase_named(m, (size_t)(dot - m));
        if (c->phase < 0)
            return -1;
        len -= (size_t)(dot + 1 - m);
        m = dot + 1;
    }
    c->percentile = parse_percentile(m, len);
    return c->percentile < 0 ? -1 : 0;
}

/* The operator at *p (advanced past it); -1 when there is none. */
static int parse_op(const char **p, failif_op *op)
{
    const char *s = *p;
    if (s[0] != '<' && s[0] != '>')
        return -1;
    int or_equal = s[1] == '=';
    *op = s[0] == '<' ? (or_equal ? FAILIF_LE : FAILIF_LT) : (or_equal ? FAILIF_GE : FAILIF_GT);
    *p = s + 1 + or_equal;
    return 0;
}

/* The number after the operator with its unit, per kind. */
static int parse_limit(const char *v, failif_cond *c, char *why, size_t whylen)
{
    char *end;
    double n = strtod(v, &end);
    if (end == v || !isfinite(n) || n < 0)
        return snprintf(why, whylen, "'%s' is not a number >= 0", v), -1;
    if (c->kind == FAILIF_LATENCY) {
        double scale = strcmp(end, "us") == 0 ? 1 : strcmp(end, "ms") == 0 ? 1e3
                       : strcmp(end, "s") == 0 ? 1e6 : 0;
        if (scale == 0)
            return snprintf(why, whylen, "a latency needs a unit: us, ms or s"), -1;
        c->limit = n * scale;
        return 0;
    }
    c->share = strcmp(end, "%") == 0;
    if (*end && !c->share)
        return snprintf(why, whylen, "'%s' after the number is not understood", end), -1;
    if (c->share && (c->kind == FAILIF_RATE || n > 100))
        return snprintf(why, whylen, c->kind == FAILIF_RATE ? "a rate is not a share"
                                                           : "a share is at most 100%%"), -1;
    c->limit = n;
    return 0;
}

int failif_parse(const char *text, failif_cond *c, char *err, size_t errlen)
{
    char why[128];
    memset(c, 0, sizeof(*c));
    if (strlen(text) >= sizeof(c->text))
        return fail(text, "too long", err, errlen);
    snprintf(c->text, sizeof(c->text), "%s", text);
    const char *op = strpbrk(text, "<>");
    if (!op)
        return fail(text, "no operator", err, errlen);
    if (parse_metric(text, (size_t)(op - text), c) != 0)
        return fail(text, "unknown metric", err, errlen);
    if (parse_op(&op, &c->op) != 0 || parse_limit(op, c, why, sizeof(why)) != 0)
        return fail(text, why, err, errlen);
    return 0;
}

double failif_measure(const failif_cond *c, const lg_stats *s, double rate)
{
    uint64_t errors = lg_stats_error_total(s), finished = s->greetings + errors;
    switch (c->kind) {
    case FAILIF_LATENCY: return (double)hist_percentile(s->phase[c->phase], c->percentile);
    case FAILIF_RATE: return rate;
    case FAILIF_ERRORS:
        if (!c->share)
            return (double)errors;
        return finished ? 100.0 * (double)errors / (double)finished : 0;
    case FAILIF_UNFINISHED:
        if (!c->share)
            return (double)s->unfinished;
        return s->starts ? 100.0 * (double)s->unfinished / (double)s->starts : 0;
    }
    return 0;
}

int failif_holds(const failif_cond *c, double value)
{
    switch (c->op) {
    case FAILIF_LT: return value < c->limit;
    case FAILIF_LE: return value <= c->limit;
    case FAILIF_GT: return value > c->limit;
    case FAILIF_GE: return value >= c->limit;
    }
    return 0;
}

void failif_describe(const failif_cond *c, char *name, size_t namelen, const char **unit)
{
    switch (c->kind) {
    case FAILIF_LATENCY:
        if (c->percentile >= 100)
            snprintf(name, namelen, "%s.max", lg_stats_phase_names[c->phase]);
        else
            snprintf(name, namelen, "%s.p%g", lg_stats_phase_names[c->phase], c->percentile);
        *unit = "us";
        return;
    case FAILIF_RATE: snprintf(name, namelen, "rate"); *unit = "/s"; return;
    case FAILIF_ERRORS: snprintf(name, namelen, "errors"); break;
    case FAILIF_UNFINISHED: snprintf(name, namelen, "unfinished"); break;
    }
    *unit = c->share ? "%" : "";
}
