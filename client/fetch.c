/* fetch.c -- getting the greeting: read a stream to its end, or ask by datagram with retries. */
#include "fetch.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a UDP client sends: the content does not matter to the server, only the datagram. */
#define REQUEST "greeting?"

static int print_greeting(const char *buf, size_t len)
{
    fwrite(buf, 1, len, stdout);
    fputc('\n', stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

int fetch_stream(int fd, uint64_t deadline_ns, int timeout_ms, const char *where)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int status = 1;
    while (buf != NULL) {
        uint64_t now = clock_now_ns();
        if (now >= deadline_ns) {
            log_error("%s: no complete greeting within %d ms", where, timeout_ms);
            goto out_free;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)((deadline_ns - now + 999999) / 1000000)) <= 0)
            continue; /* timeout or EINTR: the deadline check decides */
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            if (len == 0)
                log_error("%s: the server closed without a greeting", where);
            else
                status = print_greeting(buf, len);
            goto out_free;
        } else if (errno != EINTR && errno != EAGAIN) {
            log_error("%s: read: %s", where, strerror(errno));
            goto out_free;
        }
    }
    log_error("%s: out of memory for the greeting", where);
out_free:
    free(buf);
    return status;
}

int fetch_tls(tls_conn *tls, uint64_t deadline_ns, const char *where)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap), err[TLS_ERRLEN];
    int status = 1;
    while (buf != NULL) {
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
        size_t got = 0;
        int rc = tls_read_until(tls, buf + len, cap - len, &got, deadline_ns, err, sizeof(err));
        if (rc == 1) {
            len += got;
            continue;
        }
        if (rc < 0)
            log_error("%s: %s", where, err);
        else if (len == 0)
            log_error("%s: the server closed without a greeting", where);
        else
            status = print_greeting(buf, len);
        goto out_free;
    }
    log_error("%s: out of memory for the greeting", where);
out_free:
    free(buf);
    return status;
}

int fetch_datagram(int fd, const struct sockaddr *to, socklen_t tolen, int timeout_ms, int retries,
                   const char *where)
{
    static char reply[65536];
    for (int attempt = 0; attempt <= retries; attempt++) {
        ssize_t sent = to ? sendto(fd, REQUEST, strlen(REQUEST), 0, to, tolen)
                          : send(fd, REQUEST, strlen(REQUEST), 0);
        if (sent < 0) {
            log_error("sendto %s: %s%s", where, strerror(errno),
                      errno == EACCES ? " (a broadcast address needs --broadcast)" : "");
            return 1;
        }
        uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
        for (uint64_t now; (now = clock_now_ns()) < deadline;) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000)) <= 0)
                continue;
            ssize_t n = recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
            if (n > 0)
                return print_greeting(reply, (size_t)n);
            if (n < 0 && errno == ECONNREFUSED) {
                /* An ICMP port-unreachable answered the last datagram. */
                log_error("%s: nothing is listening there (connection refused)", where);
                return 1;
            }
        }
        if (attempt < retries)
            log_warn("%s: no reply within %d ms, retrying (%d of %d)", where, timeout_ms, attempt + 1,
                     retries);
    }
    log_error("%s: no reply after %d attempt%s of %d ms each", where, retries + 1,
              retries ? "s" : "", timeout_ms);
    return 1;
}
