/* parse.h -- strict parsing of numbers and durations given on a command line. */
#ifndef GREETER_PARSE_H
#define GREETER_PARSE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Both return 0, or -1 with "what: why" in err naming the option, e.g.
 * "--workers: 'abc' is not a whole number" or "--workers: 0 is out of range (1-100000)".
 * The whole string must be used: "10x" is an error, never 10.
 */
int parse_long(const char *option, const char *text, long min, long max, long *out, char *err,
               size_t errlen);

/* A duration: a number with an optional unit us, ms, s or m; a bare number is in
 * default_unit ("s" or "ms"). Fractions are allowed ("1.5s"). Result in microseconds. */
int parse_duration_us(const char *option, const char *text, const char *default_unit,
                      long long *out_us, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
