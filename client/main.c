/* main.c -- greeter-client: connect, print the greeting, exit; or `resolve HOST SERVICE`. */
#include "resolve.h"

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
            "  -t, --timeout TIME   bound on connecting and on reading the whole greeting\n"
            "                       (default 5s; units us, ms, s, m)\n"
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

/* Reads until the server closes, within deadline; returns 0 and prints, or 1 with a message. */
static int read_greeting(int fd, uint64_t deadline_ns, int timeout_ms, const char *where)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            log_error("%s: out of memory", where);
            return 1;
        }
        uint64_t now = clock_now_ns();
        if (now >= deadline_ns) {
            log_error("%s: no complete greeting within %d ms", where, timeout_ms);
            free(buf);
            return 1;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)((deadline_ns - now + 999999) / 1000000)) <= 0)
            continue; /* timeout or EINTR: the deadline check decides */
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno != EINTR && errno != EAGAIN) {
            log_error("%s: read: %s", where, strerror(errno));
            free(buf);
            return 1;
        }
    }
    if (len == 0) {
        log_error("%s: the server closed without a greeting", where);
        free(buf);
        return 1;
    }
    fwrite(buf, 1, len, stdout);
    fputc('\n', stdout);
    free(buf);
    return fflush(stdout) == 0 ? 0 : 1;
}

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    const char *host = "localhost", *port = "12345";
    long long timeout_us = 5000000;
    char err[512];
    log_set_program(program);
    if (argc > 1 && strcmp(argv[1], "resolve") == 0) {
        if (argc != 4)
            return bad_usage("resolve takes HOST and SERVICE, e.g. resolve localhost http");
        return resolve_print(stdout, argv[2], argv[3]);
    }
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":H:p:t:h", long_options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = optarg; break;
        case 't':
            if (parse_duration_us("--timeout", optarg, "s", &timeout_us, err, sizeof(err)) < 0)
                return bad_usage(err);
            if (timeout_us < 1000)
                return bad_usage("--timeout: must be at least 1ms");
            break;
        case 'h': usage(stdout); return 0;
        default:
            snprintf(err, sizeof(err), opt == ':' ? "option '%s' needs a value" : "unknown option '%s'",
                     argv[optind - 1]);
            return bad_usage(err);
        }
    }
    if (optind < argc)
        host = argv[optind++];
    if (optind < argc)
        port = argv[optind++];
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        return bad_usage(err);
    }
    char host_only[ADDR_HOSTLEN], port_in_host[ADDR_PORTLEN];
    /* Accept "[::1]:12345" or "host:port" as HOST too, when PORT is not given separately. */
    if (addr_split(host, host_only, sizeof(host_only), port_in_host, sizeof(port_in_host), err,
                   sizeof(err)) < 0)
        return bad_usage(err);
    if (port_in_host[0])
        port = port_in_host;
    unsigned portnum;
    if (addr_parse_port(port, SOCK_STREAM, &portnum, err, sizeof(err)) < 0)
        return bad_usage(err);

    int timeout_ms = (int)(timeout_us / 1000);
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_us * 1000u;
    int fd = net_connect(host_only, port, SOCK_STREAM, timeout_ms, err, sizeof(err));
    if (fd < 0) {
        log_error("%s", err);
        return 1;
    }
    char where[ADDR_HOSTLEN + ADDR_PORTLEN + 4];
    snprintf(where, sizeof(where), "%s:%s", host_only, port);
    int rc = read_greeting(fd, deadline, timeout_ms, where);
    close(fd);
    return rc;
}
