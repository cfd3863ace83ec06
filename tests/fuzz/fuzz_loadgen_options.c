/* fuzz_loadgen_options.c -- loadgen's option parser on command lines built from fuzz input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_argv.h"

/* --help prints to stdout; send it nowhere so a long run does not flood the log. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (freopen("/dev/null", "w", stdout) == NULL)
        return 0;
    return 0;
}

/* Input: the arguments after the program name, separated by NUL or newline bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_argv args;
    if (fuzz_argv_build(&args, "loadgen", data, size) != 0)
        return 0;
    lg_config cfg;
    char err[CONFIG_ERRLEN];
    err[0] = '\0';
    /* config_parse restarts getopt itself (it resets optind), so inputs never leak into each other. */
    int rc = config_parse(args.argc, args.argv, &cfg, err, sizeof(err));
    if (rc == 0 && !cfg.help && !cfg.version) { /* --help and --version run nothing */
        if (cfg.connections < 1 || cfg.threads < 1 || cfg.threads > cfg.connections ||
            cfg.timeout_us < 1000 || (cfg.total == 0 && cfg.duration_us == 0) ||
            memchr(cfg.target, '\0', sizeof(cfg.target)) == NULL ||
            (cfg.expect != NULL) != (cfg.expect_len > 0) || (cfg.send != NULL) != (cfg.send_len > 0))
            abort();
    } else if (rc != 0 && err[0] == '\0') {
        abort(); /* a failure always says why */
    }
    config_free(&cfg);
    fuzz_argv_free(&args);
    return 0;
}
