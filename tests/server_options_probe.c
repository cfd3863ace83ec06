/* server_options_probe.c -- greeter-server's option parser behind a C-only door, for C++ tests:
 * server.h's _Atomic counters cannot be included from C++. */
#include "server_options_probe.h"

#include "options.h"

int server_options_probe(int argc, char **argv, int cores, char *err, size_t errlen)
{
    server_options opts;
    int rc = server_options_parse(argc, argv, cores, &opts, err, errlen);
    server_options_free(&opts);
    return rc;
}
