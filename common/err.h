/* err.h -- filling a caller's error buffer, for setup code that returns -1 with "what: why". */
#ifndef GREETER_ERR_H
#define GREETER_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Formats into err (errlen bytes) and returns -1, for "return err_fail(...)" at each refusal. */
static inline int err_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int err_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

#ifdef __cplusplus
}
#endif
#endif
