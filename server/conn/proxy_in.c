/* proxy_in.c -- --proxy-protocol: which balancers may speak for their clients, the PROXY
 * header read off a new connection, and the fate of a connection that has none. */
#include "proxy_in.h"

#include "clock.h"
#include "proxy_header.h"

#include <errno.h>
#include <poll.h>
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

/* Part of the header is in: the bytes stay in the socket (we only peeked), so it stays
 * readable; the low-water mark makes poll and epoll wait for more than `have` instead of
 * waking at once again and again (TCP honours it; a UNIX socket's waits may spin until the
 * deadline). proxy_in_try puts it back to 1 once the header is read. */
static proxy_in_result wait_for_more(conn_item *conn, size_t have)
{
    int lowat = (int)have + 1;
    if (setsockopt(conn->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) == 0)
        conn->proxy_pending = PROXY_PENDING_LOWAT;
    return PROXY_IN_AGAIN;
}

/* Takes the n header bytes that a peek showed are in the socket. */
static int consume(int fd, size_t n)
{
    unsigned char sink[PROXY_IN_MAX];
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, sink, n - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
        else if (!(r < 0 && errno == EINTR))
            return -1;
    }
    return 0;
}

proxy_in_result proxy_in_try(conn_item *conn, const char **why)
{
    unsigned char buf[PROXY_IN_MAX];
    ssize_t n;
    do
        n = recv(conn->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return PROXY_IN_AGAIN;
    if (n <= 0) {
        *why = n == 0 ? "closed before a whole PROXY header" : "reset before a whole PROXY header";
        return PROXY_IN_FAILED;
    }
    proxy_header hdr;
    int rc = proxy_header_parse(buf, (size_t)n, &hdr);
    if (rc == PROXY_HEADER_INCOMPLETE && (size_t)n < sizeof(buf))
        return wait_for_more(conn, (size_t)n);
    if (rc < 0) {
        *why = rc == PROXY_HEADER_INVALID ? "no valid PROXY header"
                                          : "PROXY header longer than 2048 bytes";
        return PROXY_IN_FAILED;
    }
    if (consume(conn->fd, (size_t)rc) < 0) {
        *why = "reset while reading its PROXY header";
        return PROXY_IN_FAILED;
    }
    if (!hdr.local) {
        memcpy(&conn->peer, &hdr.src, hdr.addr_len);
        conn->peer_len = hdr.addr_len;
    }
    if (conn->proxy_pending == PROXY_PENDING_LOWAT) {
        int one = 1;
        setsockopt(conn->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
    }
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
