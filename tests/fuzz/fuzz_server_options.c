/* fuzz_server_options.c -- greeter-server's option parser on command lines built from fuzz input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"
#include "options.h"

/* Input: the arguments after the program name, separated by NUL or newline bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_argv args;
    if (fuzz_argv_build(&args, "greeter-server", data, size) != 0)
        return 0;
    server_options opts;
    char err[256];
    err[0] = '\0';
    int rc = server_options_parse(args.argc, args.argv, 2, &opts, err, sizeof(err));
    if (rc == 0 && !opts.help && !opts.version) { /* --help and --version run nothing */
        /* What the parser promises a successful caller. */
        const server_config *cfg = &opts.cfg;
        if (server_find_model(cfg->model) == NULL || cfg->workers < 1 || cfg->backlog < 1 ||
            cfg->handler.greeting_len == 0 ||
            cfg->handler.greeting_len != strlen(cfg->handler.greeting) ||
            cfg->handler.io_timeout_ms < 1 || cfg->udp_max < 0 || cfg->udp_max > 65535 ||
            (cfg->access.allow_count > 0) != (cfg->access.allow != NULL) ||
            (cfg->access.deny_count > 0) != (cfg->access.deny != NULL))
            abort();
    } else if (rc != 0 && err[0] == '\0') {
        abort(); /* a failure always says why */
    }
    server_options_free(&opts);
    fuzz_argv_free(&args);
    return 0;
}
