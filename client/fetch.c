/* fetch.c -- getting the greeting: stream it to stdout within bounds, or ask by datagram with retries. */
#include "fetch.h"

#include "clock.h"
#include "log.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Bytes read at a time: the client's whole buffer, however long the greeting. */
#define READ_CHUNK 16384

/* A greeting on its way to stdout: what has been printed, against the cap. */
typedef struct greeting_sink {
    size_t printed;
    size_t max_bytes;
    const char *where;
} greeting_sink;

/* How much to ask for next: one byte past the cap at most, so a longer greeting shows
 * itself without the client reading (or holding) any more of it. */
static size_t sink_room(const greeting_sink *sink, size_t buflen)
{
    size_t left = sink->max_bytes - sink->printed + 1;
    return left < buflen ? left : buflen;
}

/* Prints n more bytes; 0, or the exit status 1 with the reason logged. */
static int sink_take(greeting_sink *sink, const char *buf, size_t n)
{
    if (n > sink->max_bytes - sink->printed) {
        log_error("%s: the greeting is longer than %zu bytes: stopped reading (--max-bytes "
                  "raises the limit)", sink->where, sink->max_bytes);
        return 1;
    }
    sink->printed += n;
    if (fwrite(buf, 1, n, stdout) != n) {
        log_error("write to stdout: %s", strerror(errno));
        return 1;
    }
    return 0;
}

/* The server ended the greeting: ends the line. Returns the exit status. */
static int sink_finish(greeting_sink *sink)
{
    if (sink->printed == 0) {
        log_error("%s: the server closed without a greeting", sink->where);
        return 1;
    }
    fputc('\n', stdout);
    if (fflush(stdout) != 0) {
        log_error("write to stdout: %s", strerror(errno));
        return 1;
    }
    return 0;
}

static int timed_out(const fetch_limits *limits, const char *where)
{
    log_error("%s: no complete greeting within %d ms", where, limits->timeout_ms);
    return 1;
}

/* Milliseconds from now to deadline, rounded up so a poll never wakes just short of it. */
static int ms_until(uint64_t deadline_ns, uint64_t now)
{
    return (int)((deadline_ns - now + 999999) / 1000000);
}

int fetch_stream(int fd, const fetch_limits *limits, const char *where)
{
    greeting_sink sink = {0, limits->max_bytes, where};
    char buf[READ_CHUNK];
    for (;;) {
        uint64_t now = clock_now_ns();
        if (now >= limits->deadline_ns)
            return timed_out(limits, where);
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, ms_until(limits->deadline_ns, now)) <= 0)
            continue; /* timeout or EINTR: the deadline check decides */
        ssize_t n = read(fd, buf, sink_room(&sink, sizeof(buf)));
        if (n > 0) {
            if (sink_take(&sink, buf, (size_t)n) != 0)
                return 1;
        } else if (n == 0) {
            return sink_finish(&sink);
        } else if (errno != EINTR && errno != EAGAIN) {
            log_error("%s: read: %s", where, strerror(errno));
            return 1;
        }
    }
}

int fetch_tls(tls_conn *tls, const fetch_limits *limits, const char *where)
{
    greeting_sink sink = {0, limits->max_bytes, where};
    char buf[READ_CHUNK], err[TLS_ERRLEN];
    for (;;) {
        size_t got = 0;
        int rc = tls_read_until(tls, buf, sink_room(&sink, sizeof(buf)), &got, limits->deadline_ns,
                                err, sizeof(err));
        if (rc == 0)
            return sink_finish(&sink);
        if (rc < 0 && clock_now_ns() >= limits->deadline_ns)
            return timed_out(limits, where);
        if (rc < 0) {
            log_error("%s: %s", where, err);
            return 1;
        }
        if (sink_take(&sink, buf, got) != 0)
            return 1;
    }
}

/* Waits up to timeout_ms for one reply and prints it: 0 printed, 1 failed (reason logged),
 * -1 nothing came in time. */
static int await_reply(int fd, int timeout_ms, size_t max_bytes, const char *where)
{
    static char reply[65536];
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (uint64_t now; (now = clock_now_ns()) < deadline;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, ms_until(deadline, now)) <= 0)
            continue;
        /* MSG_TRUNC: the datagram's real length, even past the buffer. */
        ssize_t n = recv(fd, reply, sizeof(reply), MSG_DONTWAIT | MSG_TRUNC);
        if (n > 0 && ((size_t)n > max_bytes || (size_t)n > sizeof(reply))) {
            log_error("%s: the reply of %zd bytes is longer than %zu bytes (--max-bytes raises "
                      "the limit up to %zu)", where, n,
                      max_bytes < sizeof(reply) ? max_bytes : sizeof(reply), sizeof(reply));
            return 1;
        }
        if (n > 0) {
            greeting_sink sink = {0, max_bytes, where};
            return sink_take(&sink, reply, (size_t)n) != 0 ? 1 : sink_finish(&sink);
        }
        if (n < 0 && errno == ECONNREFUSED) {
            /* An ICMP port-unreachable answered the last datagram. */
            log_error("%s: nothing is listening there (connection refused)", where);
            return 1;
        }
    }
    return -1;
}

int fetch_datagram(int fd, const struct sockaddr *to, socklen_t tolen, const fetch_datagram_opts *o,
                   const char *where)
{
    char request[65536];
    net_udp_request(request, o->request_size);
    int retries = o->retries, timeout_ms = o->timeout_ms;
    size_t max_bytes = o->max_bytes;
    for (int attempt = 0; attempt <= retries; attempt++) {
        ssize_t sent = to ? sendto(fd, request, o->request_size, 0, to, tolen)
                          : send(fd, request, o->request_size, 0);
        if (sent < 0) {
            log_error("sendto %s: %s%s", where, strerror(errno),
                      errno == EACCES ? " (a broadcast address needs --broadcast)" : "");
            return 1;
        }
        int rc = await_reply(fd, timeout_ms, max_bytes, where);
        if (rc >= 0)
            return rc;
        if (attempt < retries)
            log_warn("%s: no reply within %d ms, retrying (%d of %d)", where, timeout_ms, attempt + 1,
                     retries);
    }
    log_error("%s: no reply after %d attempt%s of %d ms each", where, retries + 1,
              retries ? "s" : "", timeout_ms);
    return 1;
}
