/* options.h -- greeter-client's command line: argv into client_options, and the help text. */
#ifndef GREETER_CLIENT_OPTIONS_H
#define GREETER_CLIENT_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "addr.h"
#include "tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The server's own cap on a greeting (--greeting-file), the client's default --max-bytes. */
#define CLIENT_DEFAULT_MAX_BYTES (1L << 20)

/* Strings point into argv: keep argv alive while these are used. */
typedef struct client_options {
    const char *host, *port, *unix_path, *servername;
    char host_only[ADDR_HOSTLEN]; /* HOST without ":PORT" or brackets */
    char port_only[ADDR_PORTLEN]; /* the port to use: from HOST:PORT, PORT or --port */
    int tls;
    tls_client_opts tls_opts;
    long long timeout_us;
    int udp, broadcast;
    long retries;
    long request_size; /* --udp: bytes in the request datagram (net_udp_request) */
    long max_bytes; /* the longest greeting (or reply) taken; longer ones fail */
    int help; /* --help: print the usage, do nothing else */
    int version; /* --version: print it, do nothing else */
} client_options;

/*
 * Parses argv (getopt_long; restartable) into opts with the defaults filled in, and checks
 * that the options go together and that HOST and PORT are well formed (no name lookup).
 * No I/O, never exits. 0, or -1 with one line naming the problem in err (exit status 2).
 */
int client_options_parse(int argc, char **argv, client_options *opts, char *err, size_t errlen);

/* The --help text. */
void client_options_usage(FILE *out, const char *program);

#ifdef __cplusplus
}
#endif
#endif
