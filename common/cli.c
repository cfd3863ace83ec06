/* cli.c -- a tool's options parsed one way: a table of options, one apply call each, and the
 * same words for the same mistakes in every tool. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>

/* getopt_long's tables, built from options: the long ones and the short letters (":" first,
 * so a missing value is told from an unknown option). 0, or -1 when options is too long. */
static int getopt_tables(const cli_option *options, struct option *longs, char *shorts)
{
    int n = 0, s = 0;
    shorts[s++] = ':';
    for (; options[n].name != NULL; n++) {
        if (n == CLI_MAX_OPTIONS)
            return -1;
        longs[n] = (struct option){options[n].name,
                                   options[n].takes_value ? required_argument : no_argument,
                                   NULL, options[n].key};
        if (options[n].key < CLI_LONG_ONLY) {
            shorts[s++] = (char)options[n].key;
            if (options[n].takes_value)
                shorts[s++] = ':';
        }
    }
    longs[n] = (struct option){NULL, 0, NULL, 0};
    shorts[s] = '\0';
    return 0;
}

int cli_parse(int argc, char **argv, const cli_option *options, cli_apply_fn apply, void *ctx,
              char *err, size_t errlen)
{
    struct option longs[CLI_MAX_OPTIONS + 1];
    char shorts[3 * CLI_MAX_OPTIONS + 2];
    if (getopt_tables(options, longs, shorts) < 0) {
        snprintf(err, errlen, "internal: more than %d options", CLI_MAX_OPTIONS);
        return -1;
    }
    opterr = 0; /* the messages are ours */
    optind = 0; /* glibc: start over, also forgetting a half-scanned "-abc" of an earlier argv */
    int key;
    while ((key = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (key == '?' || key == ':') {
            snprintf(err, errlen, key == '?' ? "unknown option '%s'" : "option '%s' needs a value",
                     argv[optind - 1]);
            return -1;
        }
        int rc = apply(ctx, key, optarg, err, errlen);
        if (rc == CLI_STOP)
            return CLI_STOPPED;
        if (rc != CLI_GO_ON)
            return -1;
    }
    return optind;
}
