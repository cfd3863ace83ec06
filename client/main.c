/* main.c -- greeter-client: connect, print the greeting, exit; or `resolve HOST SERVICE`. */
#include "fetch.h"
#include "resolve.h"
#include "tls.h"

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "parse.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *program = "greeter-client";

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s [OPTIONS] [HOST [PORT]]\n"
            "       %s resolve HOST SERVICE\n"
            "Connects to a greeting server, prints its greeting and a newline, and exits.\n"
            "HOST may be a name, a dotted quad, an IPv6 address ([::1] or ::1), '' for this\n"
            "machine, or an integer taken as an IPv4 address; PORT a number or service name.\n\n"
            "  -H, --host HOST      server host (default localhost)\n"
            "  -p, --port PORT      server port (default 12345)\n"
            "  -t, --timeout TIME   bound on connecting and on reading the whole greeting;\n"
            "                       with --udp, the wait for each reply (default 5s, or 1s\n"
            "                       with --udp; units us, ms, s, m)\n"
            "  -u, --udp            ask by datagram (sendto/recvfrom) instead of connecting\n"
            "  -r, --retries N      with --udp: datagrams to resend when no reply comes\n"
            "                       (default 3)\n"
            "  -b, --broadcast      with --udp: allow a broadcast address (SO_BROADCAST); implied\n"
            "                       by the host '<broadcast>'\n"
            "  -U, --unix PATH      connect to a UNIX socket instead of HOST:PORT\n"
            "  -T, --tls            speak TLS; the server's certificate is verified\n"
            "      --tls-ca FILE    trust these CAs (PEM) instead of the system's store\n"
            "  -k, --insecure       do not verify the server's certificate or name\n"
            "      --servername N   the name to send (SNI) and verify (default: HOST)\n"
            "      --tls-cert FILE  client certificate for mutual TLS (PEM)\n"
            "      --tls-key FILE   its private key (PEM)\n"
            "      --tls-min V      lowest TLS version, 1.2 or 1.3 (default 1.2)\n"
            "  -h, --help           this help\n\n"
            "resolve prints the local host name and getaddrinfo's answers for HOST and SERVICE.\n"
            "Exit status: 0 greeted, 1 could not connect or read, 2 bad usage.\n",
            program, program);
}

static int bad_usage(const char *message)
{
    fprintf(stderr, "%s: %s\nTry '%s --help' for the options.\n", program, message, program);
    return 2;
}

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"timeout", required_argument, NULL, 't'},
    {"udp", no_argument, NULL, 'u'},
    {"retries", required_argument, NULL, 'r'},
    {"broadcast", no_argument, NULL, 'b'},
    {"unix", required_argument, NULL, 'U'},
    {"tls", no_argument, NULL, 'T'},
    {"tls-ca", required_argument, NULL, 1000},
    {"insecure", no_argument, NULL, 'k'},
    {"servername", required_argument, NULL, 1001},
    {"tls-cert", required_argument, NULL, 1002},
    {"tls-key", required_argument, NULL, 1003},
    {"tls-min", required_argument, NULL, 1004},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct client_options {
    const char *host, *port, *unix_path, *servername;
    char host_only[ADDR_HOSTLEN]; /* host without a ":PORT" or brackets, for the TLS name check */
    int tls;
    tls_client_opts tls_opts;
    long long timeout_us;
    int timeout_given, udp, broadcast;
    long retries;
} client_options;

/* Parses argv into opts; returns -1 on success, else the exit status to return now. */
static int parse_args(int argc, char **argv, client_options *opts)
{
    char err[512];
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":H:p:t:ur:bU:Tkh", long_options, NULL)) != -1) {
        switch (opt) {
        case 'H': opts->host = optarg; break;
        case 'p': opts->port = optarg; break;
        case 't':
            if (parse_duration_us("--timeout", optarg, "s", &opts->timeout_us, err, sizeof(err)) < 0)
                return bad_usage(err);
            if (opts->timeout_us < 1000 || opts->timeout_us > 3600LL * 1000000)
                return bad_usage("--timeout: must be between 1ms and 1h");
            opts->timeout_given = 1;
            break;
        case 'u': opts->udp = 1; break;
        case 'r':
            if (parse_long("--retries", optarg, 0, 1000, &opts->retries, err, sizeof(err)) < 0)
                return bad_usage(err);
            break;
        case 'b': opts->broadcast = 1; break;
        case 'U': opts->unix_path = optarg; break;
        case 'T': opts->tls = 1; break;
        case 'k': opts->tls_opts.insecure = 1; break;
        case 1000: opts->tls_opts.ca_file = optarg; break;
        case 1001: opts->servername = optarg; break;
        case 1002: opts->tls_opts.cert_file = optarg; break;
        case 1003: opts->tls_opts.key_file = optarg; break;
        case 1004:
            if ((opts->tls_opts.min_version = tls_parse_version(optarg)) < 0)
                return bad_usage("--tls-min: give 1.2 or 1.3");
            break;
        case 'h': usage(stdout); return 0;
        default:
            snprintf(err, sizeof(err), opt == ':' ? "option '%s' needs a value" : "unknown option '%s'",
                     argv[optind - 1]);
            return bad_usage(err);
        }
    }
    if (optind < argc)
        opts->host = argv[optind++];
    if (optind < argc)
        opts->port = argv[optind++];
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        return bad_usage(err);
    }
    if (!opts->udp && (opts->broadcast || opts->retries != 3))
        return bad_usage("--broadcast and --retries go with --udp");
    const tls_client_opts *t = &opts->tls_opts;
    int tls_detail = t->ca_file || t->insecure || t->cert_file || t->key_file || t->min_version ||
                     opts->servername;
    if (tls_detail && !opts->tls)
        return bad_usage("--tls-ca, --insecure, --servername, --tls-cert, --tls-key and --tls-min go with --tls");
    if (opts->tls && !tls_available())
        return bad_usage("--tls: " TLS_NOT_BUILT_IN);
    if (opts->tls && opts->udp)
        return bad_usage("--tls does not apply with --udp (DTLS is not supported)");
    if (!t->cert_file != !t->key_file)
        return bad_usage("mutual TLS needs both --tls-cert and --tls-key");
    if (opts->udp && !opts->timeout_given)
        opts->timeout_us = 1000000;
    return -1;
}

/* Opens a datagram socket toward host:port; *to is filled for broadcast (unconnected) use. */
static int udp_socket(const client_options *opts, const char *host, const char *port,
                      struct sockaddr_storage *to, socklen_t *tolen, char *err, size_t errlen)
{
    addr_hints hints = {.socktype = SOCK_DGRAM};
    struct addrinfo *list;
    if (addr_resolve(host, port, &hints, &list, err, errlen) < 0)
        return -1;
    int fd = socket(list->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    int broadcast = opts->broadcast || strcmp(host, "<broadcast>") == 0;
    if (fd < 0 || (broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)) {
        snprintf(err, errlen, "udp socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(list);
        return -1;
    }
    /* Unicast: connect, so an ICMP "port unreachable" comes back as a clear error. Broadcast
     * replies come from the server's own address, which a connected socket would filter out. */
    *tolen = 0;
    if (broadcast) {
        memcpy(to, list->ai_addr, list->ai_addrlen);
        *tolen = list->ai_addrlen;
    } else if (connect(fd, list->ai_addr, list->ai_addrlen) < 0) {
        snprintf(err, errlen, "connect (udp): %s%s", strerror(errno),
                 errno == EACCES ? " (a broadcast address needs --broadcast)" : "");
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

/* Handshakes on the connected fd (verifying the server unless --insecure) and prints the
 * greeting. Returns the exit status. */
static int greet_over_tls(const client_options *opts, int fd, uint64_t deadline, const char *where)
{
    char err[TLS_ERRLEN];
    const char *name = opts->servername ? opts->servername : opts->unix_path ? NULL : opts->host_only;
    tls_ctx *ctx = tls_ctx_new_client(&opts->tls_opts, err, sizeof(err));
    tls_conn *tls = ctx ? tls_conn_new(ctx, fd, name, err, sizeof(err)) : NULL;
    int status = 1;
    if (tls == NULL)
        log_error("%s", err);
    else if (tls_handshake_until(tls, deadline, err, sizeof(err)) < 0)
        log_error("%s: %s", where, err);
    else
        status = fetch_tls(tls, deadline, where);
    tls_conn_free(tls);
    tls_ctx_free(ctx);
    return status;
}

int main(int argc, char **argv)
{
    client_options opts = {.host = "localhost", .port = "12345", .timeout_us = 5000000, .retries = 3};
    char err[512];
    log_set_program(program);
    if (argc > 1 && strcmp(argv[1], "resolve") == 0) {
        if (argc != 4)
            return bad_usage("resolve takes HOST and SERVICE, e.g. resolve localhost http");
        return resolve_print(stdout, argv[2], argv[3]);
    }
    int status = parse_args(argc, argv, &opts);
    if (status >= 0)
        return status;
    int timeout_ms = (int)(opts.timeout_us / 1000);
    int socktype = opts.udp ? SOCK_DGRAM : SOCK_STREAM;
    char where[ADDR_HOSTLEN + ADDR_PORTLEN + 4];
    int fd;
    struct sockaddr_storage to;
    socklen_t tolen = 0;
    uint64_t deadline = clock_now_ns() + (uint64_t)opts.timeout_us * 1000u;
    if (opts.unix_path) {
        snprintf(where, sizeof(where), "%s", opts.unix_path);
        fd = net_connect_unix(opts.unix_path, socktype, err, sizeof(err));
    } else {
        char *host = opts.host_only, port_in_host[ADDR_PORTLEN];
        /* "[::1]:12345" or "host:port" may stand for HOST when PORT is not given separately. */
        if (addr_split(opts.host, host, sizeof(opts.host_only), port_in_host, sizeof(port_in_host),
                       err, sizeof(err)) < 0)
            return bad_usage(err);
        const char *port = port_in_host[0] ? port_in_host : opts.port;
        unsigned portnum;
        if (addr_parse_port(port, socktype, &portnum, err, sizeof(err)) < 0)
            return bad_usage(err);
        snprintf(where, sizeof(where), "%s:%s", host, port);
        fd = opts.udp ? udp_socket(&opts, host, port, &to, &tolen, err, sizeof(err))
                      : net_connect(host, port, SOCK_STREAM, timeout_ms, err, sizeof(err));
    }
    if (fd < 0) {
        log_error("%s", err);
        return 1;
    }
    if (opts.tls)
        status = greet_over_tls(&opts, fd, deadline, where);
    else if (opts.udp)
        status = fetch_datagram(fd, tolen ? (struct sockaddr *)&to : NULL, tolen, timeout_ms,
                                (int)opts.retries, where);
    else
        status = fetch_stream(fd, deadline, timeout_ms, where);
    close(fd);
    return status;
}
