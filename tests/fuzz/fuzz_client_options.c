/* fuzz_client_options.c -- greeter-client's option parser on command lines built from fuzz input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"
#include "options.h"

/* Input: the arguments after the program name, separated by NUL or newline bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_argv args;
    if (fuzz_argv_build(&args, "greeter-client", data, size) != 0)
        return 0;
    client_options opts;
    char err[256];
    err[0] = '\0';
    int rc = client_options_parse(args.argc, args.argv, &opts, err, sizeof(err));
    if (rc == 0 && !opts.help && !opts.version) { /* --help and --version run nothing */
        /* HOST and PORT were checked: the split parts are NUL-terminated within their buffers. */
        if (memchr(opts.host_only, '\0', sizeof(opts.host_only)) == NULL ||
            memchr(opts.port_only, '\0', sizeof(opts.port_only)) == NULL ||
            opts.timeout_us < 1000 || opts.retries < 0)
            abort();
    } else if (rc != 0 && err[0] == '\0') {
        abort(); /* a failure always says why */
    }
    fuzz_argv_free(&args);
    return 0;
}
