/* parse.c -- strict parsing of numbers and durations given on a command line. */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_long(const char *option, const char *text, long min, long max, long *out, char *err,
               size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0') {
        snprintf(err, errlen, "%s: '%s' is not a whole number", option, text);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        snprintf(err, errlen, "%s: %s is out of range (%ld-%ld)", option, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static double unit_in_us(const char *unit)
{
    if (strcmp(unit, "us") == 0)
        return 1.0;
    if (strcmp(unit, "ms") == 0)
        return 1e3;
    if (strcmp(unit, "s") == 0)
        return 1e6;
    if (strcmp(unit, "m") == 0)
        return 60e6;
    return -1.0;
}

int parse_duration_us(const char *option, const char *text, const char *default_unit,
                      long long *out_us, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0 || errno == ERANGE) {
        snprintf(err, errlen, "%s: '%s' is not a duration (try 500ms, 2s or 1m)", option, text);
        return -1;
    }
    double scale = unit_in_us(*end ? end : default_unit);
    if (scale < 0) {
        snprintf(err, errlen, "%s: unknown unit in '%s' (use us, ms, s or m)", option, text);
        return -1;
    }
    double us = v * scale;
    if (us > 9e15) {
        snprintf(err, errlen, "%s: '%s' is too long", option, text);
        return -1;
    }
    *out_us = (long long)(us + 0.5);
    return 0;
}
