/* cli.c -- a tool's options parsed one way: a table of options, one apply call each, and the
 * same words for the same mistakes in every tool. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

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

/* The words for what getopt_long refused; word is argv[optind - 1], the last word it took. A
 * short option is named by its letter, which may sit inside a bundle such as "-qZ". */
static void describe_refusal(const cli_option *options, int key, const char *word, char *err,
                             size_t errlen)
{
    int is_long = strncmp(word, "--", 2) == 0;
    if (key == ':') {
        if (is_long)
            snprintf(err, errlen, "option '%s' needs a value", word);
        else
            snprintf(err, errlen, "option '-%c' needs a value", optopt);
        return;
    }
    size_t len = is_long ? strcspn(word + 2, "=") : 0;
    for (const cli_option *o = options; is_long && optopt != 0 && o->name != NULL; o++)
        if (o->key == optopt && !o->takes_value && word[2 + len] == '=' &&
            strncmp(o->name, word + 2, len) == 0) { /* "--help=x": a value it cannot take */
            snprintf(err, errlen, "option '--%s' takes no value", o->name);
            return;
        }
    if (optopt != 0 || !is_long) {
        snprintf(err, errlen, "unknown option '-%c'", optopt ? optopt : '?');
        return;
    }
    /* An abbreviation that more than one long name begins with: list them. */
    int n = snprintf(err, errlen, "option '%.*s' is ambiguous:", (int)len + 2, word), matches = 0;
    for (const cli_option *o = options; o->name != NULL && n > 0 && (size_t)n < errlen; o++) {
        if (len == 0 || strncmp(o->name, word + 2, len) != 0)
            continue;
        matches++;
        n += snprintf(err + n, errlen - (size_t)n, "%s --%s", matches > 1 ? "," : "", o->name);
    }
    if (matches < 2)
        snprintf(err, errlen, "unknown option '%s'", word);
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
            describe_refusal(options, key, argv[optind - 1], err, errlen);
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
