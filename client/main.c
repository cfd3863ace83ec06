/* main.c -- greeter-client: connect, print the greeting, exit; or `resolve HOST SERVICE`. */
#include "fetch.h"
#include "options.h"
#include "resolve.h"

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *program = "greeter-client";

static int bad_usage(const char *message)
{
    fprintf(stderr, "%s: %s\nTry '%s --help' for the options.\n", program, message, program);
    return 2;
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
static int greet_over_tls(const client_options *opts, int fd, const fetch_limits *limits,
                          const char *where)
{
    char err[TLS_ERRLEN];
    const char *name = opts->servername ? opts->servername : opts->unix_path ? NULL : opts->host_only;
    tls_ctx *ctx = tls_ctx_new_client(&opts->tls_opts, err, sizeof(err));
    tls_conn *tls = ctx ? tls_conn_new(ctx, fd, name, err, sizeof(err)) : NULL;
    int status = 1;
    if (tls == NULL)
        log_error("%s", err);
    else if (tls_handshake_until(tls, limits->deadline_ns, err, sizeof(err)) < 0)
        log_error("%s: %s", where, err);
    else
        status = fetch_tls(tls, limits, where);
    tls_conn_free(tls);
    tls_ctx_free(ctx);
    return status;
}

int main(int argc, char **argv)
{
    client_options opts;
    char err[512];
    log_set_program(program);
    if (argc > 1 && strcmp(argv[1], "resolve") == 0) {
        if (argc != 4)
            return bad_usage("resolve takes HOST and SERVICE, e.g. resolve localhost http");
        return resolve_print(stdout, argv[2], argv[3]);
    }
    if (client_options_parse(argc, argv, &opts, err, sizeof(err)) < 0)
        return bad_usage(err);
    if (opts.help) {
        client_options_usage(stdout, program);
        return 0;
    }
    if (opts.version) {
        version_print(stdout, program);
        return 0;
    }
    int timeout_ms = (int)(opts.timeout_us / 1000);
    int socktype = opts.udp ? SOCK_DGRAM : SOCK_STREAM;
    char where[ADDR_HOSTLEN + ADDR_PORTLEN + 4];
    int fd;
    struct sockaddr_storage to;
    socklen_t tolen = 0;
    fetch_limits limits = {clock_now_ns() + (uint64_t)opts.timeout_us * 1000u, timeout_ms,
                           (size_t)opts.max_bytes};
    if (opts.unix_path) {
        snprintf(where, sizeof(where), "%s", opts.unix_path);
        fd = net_connect_unix(opts.unix_path, socktype, timeout_ms, err, sizeof(err));
    } else {
        snprintf(where, sizeof(where), "%s:%s", opts.host_only, opts.port_only);
        fd = opts.udp ? udp_socket(&opts, opts.host_only, opts.port_only, &to, &tolen, err, sizeof(err))
                      : net_connect(opts.host_only, opts.port_only, SOCK_STREAM, timeout_ms, err,
                                    sizeof(err));
    }
    if (fd < 0) {
        log_error("%s", err);
        return 1;
    }
    int status;
    if (opts.tls)
        status = greet_over_tls(&opts, fd, &limits, where);
    else if (opts.udp) {
        fetch_datagram_opts dg = {timeout_ms, (int)opts.retries, limits.max_bytes,
                                  (size_t)opts.request_size};
        status = fetch_datagram(fd, tolen ? (struct sockaddr *)&to : NULL, tolen, &dg, where);
    }
    else
        status = fetch_stream(fd, &limits, where);
    close(fd);
    return status;
}
