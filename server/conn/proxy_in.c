/* proxy_in.c -- --proxy-protocol: which balancers may speak for their clients, the PROXY
 * header read off a new connection, and the fate of a connection that has none. */
#include "proxy_in.h"

#include "clock.h"
#include "proxy_header.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proxy_in_trusted(const proxy_config *cfg, const struct sockaddr *peer)
{
    if (peer->sa_family == AF_UNIX)
        return 1;
    for (size_t i = 0; i < cfg->from_count; i++)
        if (cidr_contains(&cfg->from[i], peer))
            return 1;
    return 0;
}

/* What came of a header before the rest: out of the socket, so that it is readable again only
 * when more comes. (The receive low-water mark would say the same without a copy, but a UNIX
 * socket's poll and epoll ignore it and would report the part already in again and again.) */
struct proxy_in_buf {
    size_t have;
    unsigned char data[PROXY_IN_MAX];
};

/* Takes n bytes that a peek showed are in the socket, into into. */
static int consume(int fd, unsigned char *into, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, into + got, n - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
        else if (!(r < 0 && errno == EINTR))
            return -1;
    }
    return 0;
}

void proxy_in_discard(const conn_item *conn)
{
    free(conn->proxy_buf);
}

static void forget_part(conn_item *conn)
{
    free(conn->proxy_buf);
    conn->proxy_buf = NULL;
}

static proxy_in_result failed(conn_item *conn, const char *reason, const char **why)
{
    *why = reason;
    forget_part(conn);
    return PROXY_IN_FAILED;
}

/* The header is not all in: takes the n bytes that came (all of them header: it is
 * incomplete) out of the socket, after those already kept. */
static proxy_in_result keep_part(conn_item *conn, size_t n, const char **why)
{
    if (conn->proxy_buf == NULL && (conn->proxy_buf = calloc(1, sizeof(*conn->proxy_buf))) == NULL)
        return failed(conn, "out of memory for its PROXY header", why);
    struct proxy_in_buf *b = conn->proxy_buf;
    if (consume(conn->fd, b->data + b->have, n) < 0)
        return failed(conn, "reset while reading its PROXY header", why);
    b->have += n;
    return PROXY_IN_AGAIN;
}

proxy_in_result proxy_in_try(conn_item *conn, const char **why)
{
    unsigned char buf[PROXY_IN_MAX];
    size_t have = conn->proxy_buf ? conn->proxy_buf->have : 0;
    if (have > 0)
        memcpy(buf, conn->proxy_buf->data, have);
    ssize_t n;
    do
        n = recv(conn->fd, buf + have, sizeof(buf) - have, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return PROXY_IN_AGAIN;
    if (n <= 0)
        return failed(conn, n == 0 ? "closed before a whole PROXY header"
                                   : "reset before a whole PROXY header", why);
    size_t total = have + (size_t)n;
    proxy_header hdr;
    int rc = proxy_header_parse(buf, total, &hdr);
    if (rc == PROXY_HEADER_INCOMPLETE && total < sizeof(buf))
        return keep_part(conn, (size_t)n, why);
    if (rc < 0)
        return failed(conn, rc == PROXY_HEADER_INVALID ? "no valid PROXY header"
                                                       : "PROXY header longer than 2048 bytes", why);
    /* What was kept is all header (it was incomplete), so the header ends past it. */
    if ((size_t)rc <= have)
        return failed(conn, "no valid PROXY header", why);
    if (consume(conn->fd, buf + have, (size_t)rc - have) < 0) /* the bytes peeked, again */
        return failed(conn, "reset while reading its PROXY header", why);
    if (!hdr.local) {
        memcpy(&conn->peer, &hdr.src, hdr.addr_len);
        conn->peer_len = hdr.addr_len;
    }
    forget_part(conn);
    conn->proxy_pending = 0;
    return PROXY_IN_DONE;
}

int proxy_in_wait(conn_item *conn, int timeout_ms, const char **why)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        proxy_in_result r = proxy_in_try(conn, why);
        if (r != PROXY_IN_AGAIN)
            return r == PROXY_IN_DONE;
        uint64_t now = clock_now_ns();
        if (now >= deadline) {
            *why = "no whole PROXY header within --io-timeout";
            return 0;
        }
        struct pollfd pfd = {conn->fd, POLLIN, 0};
        int left_ms = (int)((deadline - now + 999999) / 1000000);
        if (poll(&pfd, 1, left_ms) < 0 && errno != EINTR) {
            *why = "poll failed while waiting for its PROXY header";
            return 0;
        }
    }
}
