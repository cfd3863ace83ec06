/* acceptor.c -- the accept step every blocking model shares: wait, accept, survive EMFILE, stop on request. */
#include "acceptor.h"

#include "clock.h"
#include "listeners.h"
#include "log.h"
#include "net.h"
#include "shutdown.h"
#include "sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* How long the accept thread rests after running out of descriptors. */
#define EXHAUSTED_BACKOFF_MS 20

static int open_spare(void) { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

void acceptor_init(acceptor *a, int listen_fd, const handler_config *handler, server_stats *stats)
{
    memset(a, 0, sizeof(*a));
    a->listen_fd = listen_fd;
    a->handler = handler;
    a->stats = stats;
    a->conn_flags = SOCK_CLOEXEC;
    a->drain_grace_ms = ACCEPTOR_DRAIN_GRACE_MS;
    a->spare_fd = open_spare();
    net_set_nonblocking(listen_fd, 1);
}

void acceptor_destroy(acceptor *a)
{
    if (a->spare_fd >= 0)
        close(a->spare_fd);
    a->spare_fd = -1;
}

/* Waits until the listener is readable or a stop is asked; returns 0 on stop. */
static int wait_readable(acceptor *a)
{
    struct pollfd fds[2] = {{a->listen_fd, POLLIN, 0}, {shutdown_fd(), POLLIN, 0}};
    for (;;) {
        int n = poll(fds, 2, a->on_idle ? a->on_idle(a->idle_arg) : -1);
        if (n < 0 && errno != EINTR)
            log_warn("poll on listener: %s", strerror(errno));
        if (n == 0)
            continue; /* on_idle's time is up: it runs again before the next wait */
        return !shutdown_requested();
    }
}

/* Sleeps timeout_ms unless a stop is asked first; returns 0 on stop. Unlike wait_readable it
 * ignores the listener, which stays readable while clients wait for descriptors we lack. */
static int rest(int timeout_ms)
{
    struct pollfd stop = {shutdown_fd(), POLLIN, 0};
    poll(&stop, 1, timeout_ms);
    return !shutdown_requested();
}

/* Out of descriptors: free the spare, take the oldest waiting client, tell it we are busy. */
void acceptor_reject_one(acceptor *a)
{
    if (a->spare_fd < 0)
        return;
    close(a->spare_fd);
    int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        server_stats_add(&a->stats->accepted, 1);
        handler_reject(a->handler, fd, a->stats);
    }
    a->spare_fd = open_spare();
}

void acceptor_complain(acceptor *a, int err)
{
    uint64_t now = clock_now_ns();
    if (now - a->last_complaint_ns < 1000000000u && a->last_complaint_ns != 0)
        return;
    a->last_complaint_ns = now;
    log_warn("accept: %s: turning new clients away until descriptors free up (raise ulimit -n)",
             strerror(err));
}

int acceptor_admit_item(const handler_config *h, server_stats *stats, const conn_item *conn,
                        acceptor_busy_fn on_busy, void *busy_arg)
{
    if (h->admission == NULL)
        return 1;
    const struct sockaddr *peer = (const struct sockaddr *)&conn->peer;
    admit_result r = admission_admit(h->admission, peer);
    if (r == ADMIT_BUSY && on_busy && on_busy(busy_arg, peer))
        r = admission_take_place(h->admission, peer); /* a lingering close gave way (the
                                                          * rules and the rate were passed) */
    switch (r) {
    case ADMIT_OK:
        return 1;
    case ADMIT_DENIED:
        close(conn->fd);
        server_stats_add(&stats->denied, 1);
        return 0;
    case ADMIT_BUSY:
        handler_reject(h, conn->fd, stats);
        return 0;
    case ADMIT_RATE: /* turned away at once, as a cap would, never queued */
        handler_reject(h, conn->fd, stats);
        server_stats_add(&stats->rate_limited, 1);
        return 0;
    }
    return 0;
}

int acceptor_admit(acceptor *a, const conn_item *conn)
{
    return acceptor_admit_item(a->handler, a->stats, conn, a->on_busy, a->busy_arg);
}

/* --proxy-protocol, right after accept: a source outside --proxy-from is closed at once; the
 * blocking models then read the header here (admission needs the client's address), the
 * others leave it to whoever waits on the peer. 1 when conn goes on, 0 when it was closed. */
static int proxy_accepted(acceptor *a, conn_item *conn)
{
    const char *why = "source outside --proxy-from";
    conn->proxy_pending = PROXY_PENDING;
    if (!proxy_in_trusted(&a->handler->proxy, (const struct sockaddr *)&conn->peer) ||
        (!a->proxy_header_later && !proxy_in_wait(conn, a->handler->io_timeout_ms, &why))) {
        handler_proxy_failed(a->handler, conn, why, a->stats);
        return 0;
    }
    return a->proxy_header_later || acceptor_admit(a, conn);
}

accept_result acceptor_accept(acceptor *a, conn_item *out)
{
    out->peer_len = sizeof(out->peer);
    int fd = accept4(a->listen_fd, (struct sockaddr *)&out->peer, &out->peer_len, a->conn_flags);
    if (fd >= 0) {
        out->fd = fd;
        out->accepted_ns = clock_now_ns();
        out->resume = NULL;
        out->proxy_pending = 0;
        out->proxy_buf = NULL;
        server_stats_add(&a->stats->accepted, 1);
        if (a->handler->proxy.enabled)
            return proxy_accepted(a, out) ? ACCEPT_OK : ACCEPT_TRANSIENT;
        return acceptor_admit(a, out) ? ACCEPT_OK : ACCEPT_TRANSIENT;
    }
    switch (errno) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return ACCEPT_AGAIN;
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
        return ACCEPT_TRANSIENT; /* that client is gone; the next one may be fine */
    case EMFILE:
    case ENFILE:
        acceptor_complain(a, errno);
        acceptor_reject_one(a);
        return ACCEPT_EXHAUSTED;
    default: /* ENOBUFS, ENOMEM and the like: rest rather than spin */
        acceptor_complain(a, errno);
        return ACCEPT_EXHAUSTED;
    }
}

int acceptor_try_next(acceptor *a, conn_item *out)
{
    while (!shutdown_requested()) {
        accept_result r = acceptor_accept(a, out);
        if (r == ACCEPT_OK)
            return 1;
        a->backlog_empty = r == ACCEPT_AGAIN;
        if (r != ACCEPT_TRANSIENT)
            return 0; /* none waiting, or an error acceptor_next deals with */
    }
    return 0;
}

void acceptor_retire(acceptor *a)
{
    struct sockaddr_storage name = {0};
    socklen_t len = sizeof(name);
    a->retired = 1;
    if (a->shared_listener || a->spare_fd < 0 ||
        getsockname(a->listen_fd, (struct sockaddr *)&name, &len) < 0 || name.ss_family == AF_UNIX)
        return;
    if (dup3(a->spare_fd, a->listen_fd, O_CLOEXEC) < 0)
        log_warn("closing the listener: %s", strerror(errno));
}

int acceptor_handshakes_pending(acceptor *a)
{
    struct sockaddr_storage name = {0};
    socklen_t len = sizeof(name);
    uint64_t now = clock_now_ns();
    if (a->drain_started_ns == 0)
        a->drain_started_ns = now;
    /* Plain listeners complete a handshake within a round trip (the grace); a TLS listener
     * holds its clients until they speak. Asking the kernel costs a walk of its table of
     * connections, which a thousand event loops asking at once made 25 s of a stop. */
    int defer = 0;
    socklen_t defer_len = sizeof(defer);
    if (now - a->drain_started_ns >= ACCEPTOR_DRAIN_WAIT_MAX_MS * 1000000ull ||
        getsockopt(a->listen_fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, &defer_len) < 0 ||
        defer == 0 || getsockname(a->listen_fd, (struct sockaddr *)&name, &len) < 0 ||
        (name.ss_family != AF_INET && name.ss_family != AF_INET6))
        return 0;
    in_port_t port = name.ss_family == AF_INET ? ((struct sockaddr_in *)&name)->sin_port
                                               : ((struct sockaddr_in6 *)&name)->sin6_port;
    return sockdiag_tcp_handshakes(ntohs(port)) > 0;
}

/* The drain found the queue empty: whether a handshake that was under way when SYNs
 * stopped completes (a TLS listener's client, connected but held in the kernel until its
 * ClientHello is in, whose sender a flood's CPU delays; or one the kernel lets in without
 * it, after about a second). */
static int handshake_under_way(acceptor *a)
{
    struct pollfd listener = {a->listen_fd, POLLIN, 0};
    while (a->drain_grace_ms > 0) {
        if (poll(&listener, 1, a->drain_grace_ms) > 0)
            return 1;
        if (!acceptor_handshakes_pending(a))
            return 0;
    }
    return 0;
}

int acceptor_drain_next(acceptor *a, conn_item *out)
{
    /* Only once new handshakes stop: else (an upgrade's handover, a retiring prefork child,
     * the service manager's socket) the queue is someone else's to take, and may not end. */
    int refusing = !a->retired && listeners_refusing_new(a->listen_fd);
    while (refusing && a->drained < ACCEPTOR_DRAIN_MAX) {
        accept_result r = acceptor_accept(a, out);
        if (r == ACCEPT_OK) {
            a->drained++;
            return 1;
        }
        if (r == ACCEPT_AGAIN && handshake_under_way(a))
            continue;
        if (r != ACCEPT_TRANSIENT)
            break; /* none left; or out of descriptors: those left are reset, as before */
    }
    if (!a->retired)
        acceptor_retire(a);
    return 0;
}

int acceptor_next(acceptor *a, conn_item *out)
{
    while (!shutdown_requested()) {
        if (a->backlog_empty) { /* acceptor_try_next has just found nobody waiting */
            a->backlog_empty = 0;
            if (!wait_readable(a))
                return acceptor_drain_next(a, out); /* a stop: take what queued meanwhile */
        }
        switch (acceptor_accept(a, out)) {
        case ACCEPT_OK:
            return 1;
        case ACCEPT_AGAIN:
            if (!wait_readable(a))
                return acceptor_drain_next(a, out);
            break;
        case ACCEPT_TRANSIENT:
            break;
        case ACCEPT_EXHAUSTED:
            if (!rest(EXHAUSTED_BACKOFF_MS))
                return acceptor_drain_next(a, out);
            break;
        }
    }
    return acceptor_drain_next(a, out);
}
