/* fuzz_argv.h -- builds a command line from fuzz input for the option-parser fuzz targets. */
#ifndef GREETER_FUZZ_ARGV_H
#define GREETER_FUZZ_ARGV_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* More arguments than any real command line needs; bounds the work per input. */
#define FUZZ_ARGV_MAX 64

typedef struct fuzz_argv {
    int argc;
    char *argv[FUZZ_ARGV_MAX + 2]; /* program, up to FUZZ_ARGV_MAX arguments, NULL */
} fuzz_argv;

/* Copies n bytes into their own exactly sized, NUL-terminated allocation, so that ASan catches
 * a parser reading past the end of any one argument. NULL when out of memory. */
static inline char *fuzz_argv_dup(const uint8_t *bytes, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, bytes, n);
        s[n] = '\0';
    }
    return s;
}

/*
 * Fills a with argv[0] = program and then the input split at NUL and newline bytes (one
 * trailing separator ends the last argument rather than adding an empty one; empty arguments
 * elsewhere are kept, as in --busy-message ''). At most FUZZ_ARGV_MAX arguments; the rest of
 * the input is ignored. Free with fuzz_argv_free. 0, or -1 when out of memory (a is freed).
 */
static inline int fuzz_argv_build(fuzz_argv *a, const char *program, const uint8_t *data,
                                  size_t size)
{
    a->argc = 0;
    a->argv[a->argc] = fuzz_argv_dup((const uint8_t *)program, strlen(program));
    if (a->argv[a->argc] == NULL)
        return -1;
    a->argc++;
    size_t start = 0;
    while (start < size && a->argc <= FUZZ_ARGV_MAX) {
        size_t end = start;
        while (end < size && data[end] != '\0' && data[end] != '\n')
            end++;
        char *arg = fuzz_argv_dup(data + start, end - start);
        if (arg == NULL) {
            a->argv[a->argc] = NULL;
            for (int i = 0; i < a->argc; i++)
                free(a->argv[i]);
            return -1;
        }
        a->argv[a->argc++] = arg;
        start = end + 1;
    }
    a->argv[a->argc] = NULL;
    return 0;
}

static inline void fuzz_argv_free(fuzz_argv *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    a->argc = 0;
}

#endif
