/* cli.h -- a tool's options parsed one way: a table of options, one apply call each, and the
 * same words for the same mistakes in every tool. */
#ifndef GREETER_CLI_H
#define GREETER_CLI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One option of a tool. A short option is its letter as key; a long-only one a key from
 * CLI_LONG_ONLY up, which the tool numbers itself (an enum). */
typedef struct cli_option {
    const char *name; /* long name, without "--" */
    int key;
    int takes_value;  /* "--name VALUE", "--name=VALUE" (and "-k VALUE" for a short one) */
} cli_option;

#define CLI_LONG_ONLY 256
#define CLI_MAX_OPTIONS 96 /* per table; cli_parse refuses a longer one */

/* What apply returns: go on, stop parsing (a --help or --version: nothing after it counts), or
 * -1 with err filled (naming the option: "--workers: 0 is out of range (1-100000)"). */
enum { CLI_GO_ON = 0, CLI_STOP = 1 };
typedef int (*cli_apply_fn)(void *ctx, int key, const char *value, char *err, size_t errlen);

/*
 * Parses argv's options against options (ended by an entry whose name is NULL), calling apply
 * for each in the order given; options and operands may mix (GNU style), "--" ends the options.
 * Returns the index in argv of the first operand (argc when there is none; operands are
 * moved after the options), -2 when apply returned CLI_STOP, or -1 with err: "unknown option
 * '--x'", "option '--x' needs a value", or apply's own. Restartable (tests, fuzzers).
 */
int cli_parse(int argc, char **argv, const cli_option *options, cli_apply_fn apply, void *ctx,
              char *err, size_t errlen);

#define CLI_STOPPED (-2)

#ifdef __cplusplus
}
#endif
#endif
