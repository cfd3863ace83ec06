/* options.h -- greeter-server's command line: argv into a server_config, and the help text. */
#ifndef GREETER_SERVER_OPTIONS_H
#define GREETER_SERVER_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct server_options {
    server_config cfg;         /* its strings point into argv: keep argv alive */
    const char *greeting_file; /* --greeting-file, for the caller to read */
    const char *access_log_file; /* --access-log-file, for the caller to open */
    const char *log_file;        /* --log-file, for the caller to open */
    int help;                  /* --help was given: print the usage, run nothing */
    int version;               /* --version was given: print it, run nothing */
} server_options;

/*
 * Parses argv (with getopt_long; restartable) into out, applying defaults for a machine of
 * `cores` cores and checking that the options fit the model and each other. Does no I/O and
 * never exits. 0, or -1 with one line naming the problem in err (for a usage error, exit 2).
 * Free with server_options_free even after a failure.
 */
int server_options_parse(int argc, char **argv, int cores, server_options *out, char *err,
                         size_t errlen);
void server_options_free(server_options *opts);

/* The --help text. cores 0 gives the rules without this machine's figures (for the man page). */
void server_options_usage(FILE *out, const char *program, int cores);

#ifdef __cplusplus
}
#endif
#endif
