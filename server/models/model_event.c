/* model_event.c -- one non-blocking epoll loop per thread, each on its own SO_REUSEPORT listener. */
#include "acceptor.h"
#include "clock.h"
#include "dlist.h"
#include "log.h"
#include "listeners.h"
#include "loop_listeners.h"
#include "mem_trim.h"
#include "net.h"
#include "server.h"
#include "shutdown.h"
#include "thread_set.h"
#include "udp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define ACCEPT_BATCH 64           /* accepts per wake-up, so one busy listener cannot starve I/O */

typedef enum {
    PHASE_PROXY,     /* --proxy-protocol: the PROXY header is not all in; not admitted yet */
    PHASE_HANDSHAKE, /* TLS: the handshake wants to read or write */
    PHASE_WORKING,   /* simulated sleep work: waiting for a timer, not in epoll */
    PHASE_WRITING,   /* the greeting did not fit the socket buffer: waiting for EPOLLOUT */
    PHASE_CLOSING,   /* TLS: close_notify wants to be written */
    PHASE_DRAINING   /* greeted; until the client's EOF (TLS: its close_notify) before closing */
} conn_phase;

/* A connection that has to wait for something. Connections that are greeted and closed at
 * once never get one of these. Owned by its loop; freed by conn_free. */
typedef struct event_conn {
    int fd;
    tls_conn *tls; /* NULL for plain TCP */
    int admitted;  /* counted by the admission caps: release when closing */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    int proxy_pending; /* PHASE_PROXY: conn_item's */
    struct proxy_in_buf *proxy_buf; /* ... and its part of the header read so far */
    conn_phase phase;
    int in_epoll;
    size_t sent;
    uint64_t accepted_ns; /* for the connection-time histogram */
    int timed;            /* counted in it already (when its close began) */
    reload_gen *gen; /* the greeting and TLS context it started with (SIGHUP); NULL: fixed */
    dl_node timer; /* in the loop's list for its phase, by deadline */
} event_conn;

typedef struct event_loop {
    server *srv;
    int epfd;
    /* One per listener this loop serves (loop_init); their epoll tags. The listeners
     * belong to the server's listener set, which hands them on in an upgrade. */
    acceptor *accs;
    int acc_count;
    int accepting;
    uint64_t drain_until_ns; /* after a stop: when the listeners have been quiet long enough */
    int live;         /* event_conns allocated */
    mem_trimmer *trimmer; /* the loops': gives a surge's memory back once it is over */
    mem_surge surge;      /* this loop's */
    /* When the connection on_accepted is handling was accepted: a connection greeted and
     * closed at once has no event_conn to keep it in. */
    uint64_t accepting_ns;
    reload_gen *accepting_gen; /* likewise: the settings it takes (conn_new moves it) */
    /* Every connection in a list waits the same fixed time (work_us, or io_timeout), so
     * each list stays sorted by deadline (dlist.h). */
    dl_list working, waiting_io;
} event_loop;

/* epoll data for the stop descriptor (listeners have their acceptor, connections theirs). */
static char stop_tag;


static dl_list *list_of(event_loop *loop, event_conn *c)
{
    return c->phase == PHASE_WORKING ? &loop->working : &loop->waiting_io;
}

static void conn_free(event_loop *loop, event_conn *c)
{
    dl_remove(&c->timer);
    if (c->admitted)
        admission_release(loop->srv->cfg->handler.admission, (struct sockaddr *)&c->peer);
    tls_conn_free(c->tls);
    if (c->gen)
        reload_release(c->gen);
    /* close() removes fd from epoll only with the last descriptor of its socket, and an
     * upgrade's fork holds a copy of every one until it execs: events would go on coming for
     * c after free (a use-after-free seen under TLS load with SIGUSR2). */
    if (c->in_epoll)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (!c->timed)
        server_stats_observe_duration(loop->srv->stats, c->accepted_ns);
    free(c);
    loop->live--;
}

static event_conn *conn_new(event_loop *loop, int fd)
{
    event_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->accepted_ns = loop->accepting_ns; /* only ever called while on_accepted runs */
    c->gen = loop->accepting_gen;
    loop->accepting_gen = NULL;
    loop->live++;
    return c;
}

/* Closes a connection that never got an event_conn (so on_accepted is still running). */
static void close_at_once(event_loop *loop, int fd)
{
    close(fd);
    server_stats_observe_duration(loop->srv->stats, loop->accepting_ns);
}

/* Moves c to phase, waiting for events (EPOLLIN/EPOLLOUT, 0 for none) until its deadline.
 * Staying in the same phase keeps the first deadline (and the list's order): a peer that
 * trickles bytes cannot stretch a phase past one timeout. */
static int conn_wait(event_loop *loop, event_conn *c, conn_phase phase, uint32_t events,
                     uint64_t deadline_ns)
{
    if (!dl_listed(&c->timer) || c->phase != phase) {
        c->phase = phase;
        dl_append(list_of(loop, c), &c->timer, deadline_ns);
    }
    if (events == 0)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int rc = epoll_ctl(loop->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
    c->in_epoll = 1;
    return rc;
}

static uint64_t io_deadline(event_loop *loop)
{
    return clock_now_ns() + (uint64_t)loop->srv->cfg->handler.io_timeout_ms * 1000000u;
}

/* The greeting is out: counts it greeted, and closes now if that is safe, else (and always
 * with linger: after a TLS close_notify, which the client answers) waits for the client's
 * EOF (TLS: its close_notify) first. */
static void close_greeted(event_loop *loop, int fd, event_conn *c, int linger)
{
    server_stats_add(&loop->srv->stats->greeted, 1);
    if (!linger && net_close_is_safe(fd)) {
        if (c)
            conn_free(loop, c);
        else
            close_at_once(loop, fd);
        return;
    }
    shutdown(fd, SHUT_WR);
    if (c == NULL && (c = conn_new(loop, fd)) == NULL) {
        close_at_once(loop, fd);
        return;
    }
    server_stats_observe_duration(loop->srv->stats, c->accepted_ns); /* the server's part */
    c->timed = 1;
    if (conn_wait(loop, c, PHASE_DRAINING, EPOLLIN | EPOLLRDHUP, io_deadline(loop)) < 0)
        conn_free(loop, c);
}

/* Counts the connection failed and closes it. */
static void close_failed(event_loop *loop, int fd, event_conn *c)
{
    server_stats_add(&loop->srv->stats->failed, 1);
    if (c)
        conn_free(loop, c);
    else
        close_at_once(loop, fd);
}

/* The greeting c sends (c NULL: the connection on_accepted is handling): its generation's
 * when SIGHUP can change it, else the configured one. */
static void greeting_of(const event_loop *loop, const event_conn *c, const char **buf, size_t *len)
{
    const reload_gen *gen = c ? c->gen : loop->accepting_gen;
    const handler_config *h = &loop->srv->cfg->handler;
    *buf = gen ? gen->greeting : h->greeting;
    *len = gen ? gen->greeting_len : h->greeting_len;
}

/* Writes what is left of the greeting; c may be NULL for a connection that never waited. */
static void write_greeting(event_loop *loop, int fd, event_conn *c)
{
    const char *greeting;
    size_t len, sent = c ? c->sent : 0;
    greeting_of(loop, c, &greeting, &len);
    while (sent < len) {
        ssize_t n = send(fd, greeting + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c == NULL && (c = conn_new(loop, fd)) == NULL)
                break;
            c->sent = sent;
            if (conn_wait(loop, c, PHASE_WRITING, EPOLLOUT, io_deadline(loop)) < 0)
                break;
            return;
        }
        break;
    }
    if (sent == len)
        close_greeted(loop, fd, c, 0);
    else
        close_failed(loop, fd, c);
}

/* A TLS step wants the socket (r: WANT_READ or WANT_WRITE): sends what the step held back
 * (tls_hold_sends), then waits in phase. */
static void tls_wait(event_loop *loop, event_conn *c, conn_phase phase, tls_io_result r)
{
    if (tls_push(c->tls) < 0 ||
        conn_wait(loop, c, phase, r == TLS_IO_WANT_READ ? EPOLLIN : EPOLLOUT,
                  io_deadline(loop)) < 0)
        close_failed(loop, c->fd, c);
}

/* Sends close_notify, then closes as close_greeted() does (its shutdown sends what was held
 * back, with the FIN). */
static void tls_close_notify(event_loop *loop, event_conn *c)
{
    tls_io_result r = tls_shutdown(c->tls);
    if (r == TLS_IO_DONE) {
        close_greeted(loop, c->fd, c, 1); /* drain() awaits the client's close_notify */
    } else if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
        tls_wait(loop, c, PHASE_CLOSING, r);
    } else {
        close_failed(loop, c->fd, c);
    }
}

/* Writes what is left of the greeting over TLS. */
static void tls_write_greeting(event_loop *loop, event_conn *c)
{
    const char *greeting;
    size_t len;
    greeting_of(loop, c, &greeting, &len);
    while (c->sent < len) {
        size_t written = 0;
        tls_io_result r = tls_write(c->tls, greeting + c->sent, len - c->sent, &written);
        if (r == TLS_IO_DONE) {
            c->sent += written;
        } else if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
            tls_wait(loop, c, PHASE_WRITING, r);
            return;
        } else {
            close_failed(loop, c->fd, c);
            return;
        }
    }
    tls_close_notify(loop, c);
}

/* After the greeting's work (if any): the greeting, over TLS or not. */
static void greet(event_loop *loop, event_conn *c)
{
    if (c->tls)
        tls_write_greeting(loop, c);
    else
        write_greeting(loop, c->fd, c);
}

/* The per-connection work: sleep work waits on a timer, spin work runs right here. */
static void start_work(event_loop *loop, event_conn *c, uint64_t since_ns)
{
    const handler_config *h = &loop->srv->cfg->handler;
    if (h->work_us > 0 && h->work == WORK_SLEEP) {
        conn_wait(loop, c, PHASE_WORKING, 0, since_ns + (uint64_t)h->work_us * 1000u);
        return;
    }
    handler_do_work(h);
    greet(loop, c);
}

static void tls_step_handshake(event_loop *loop, event_conn *c)
{
    tls_io_result r = tls_handshake(c->tls);
    if (r == TLS_IO_DONE) {
        start_work(loop, c, clock_now_ns());
    } else if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
        tls_wait(loop, c, PHASE_HANDSHAKE, r);
    } else {
        log_info("TLS handshake failed: %s", tls_last_error(c->tls));
        server_stats_add(&loop->srv->stats->tls_failed, 1);
        close_failed(loop, c->fd, c);
    }
}

/* A new TLS connection: wrap it and start the handshake. */
static void tls_accepted(event_loop *loop, event_conn *c)
{
    char err[TLS_ERRLEN];
    int fd = c->fd;
    c->tls = tls_conn_new(c->gen ? c->gen->tls : loop->srv->cfg->handler.tls, fd, NULL, err,
                          sizeof(err));
    if (c->tls == NULL) {
        log_warn("TLS: %s", err);
        server_stats_add(&loop->srv->stats->tls_failed, 1);
        close_failed(loop, fd, c);
        return;
    }
    tls_hold_sends(c->tls); /* the ticket, greeting and close_notify: one segment with the FIN */
    tls_step_handshake(loop, c);
}

static void serve_accepted(event_loop *loop, conn_item *conn)
{
    const handler_config *h = &loop->srv->cfg->handler;
    if (h->access_log == ACCESS_LOG_TUTORIAL)
        handler_log_peer(conn);
    /* The fast path (a plain greeting that fits the socket buffer) needs no state at all;
     * everything that waits, or must be released to the caps later, gets an event_conn. */
    if (!h->tls && !h->admission && !(h->work_us > 0 && h->work == WORK_SLEEP)) {
        handler_do_work(h); /* spin work really occupies the loop, as CPU work would */
        write_greeting(loop, conn->fd, NULL);
        return;
    }
    event_conn *c = conn_new(loop, conn->fd);
    if (c == NULL) {
        if (h->admission)
            admission_release(h->admission, (struct sockaddr *)&conn->peer);
        close_failed(loop, conn->fd, NULL);
        return;
    }
    c->admitted = h->admission != NULL;
    memcpy(&c->peer, &conn->peer, conn->peer_len);
    if (h->tls)
        tls_accepted(loop, c);
    else
        start_work(loop, c, conn->accepted_ns);
}

static void on_accepted(event_loop *loop, conn_item *conn)
{
    const handler_config *h = &loop->srv->cfg->handler;
    loop->accepting_ns = conn->accepted_ns;
    loop->accepting_gen = h->live ? reload_acquire(h->live) : NULL;
    serve_accepted(loop, conn);
    if (loop->accepting_gen) { /* greeted at once: no event_conn took it */
        reload_release(loop->accepting_gen);
        loop->accepting_gen = NULL;
    }
}

/* --proxy-protocol: the connection has its PROXY header (conn->peer is the client's): admission
 * decides with that address, then it is served like any other. */
static void proxy_admit(event_loop *loop, conn_item *conn)
{
    if (acceptor_admit_item(&loop->srv->cfg->handler, loop->srv->stats, conn, NULL, NULL))
        on_accepted(loop, conn);
}

/* PHASE_PROXY: more of the header came (or its deadline passed: why set). */
static void proxy_more(event_loop *loop, event_conn *c, const char *why)
{
    conn_item conn = {.fd = c->fd, .peer_len = c->peer_len, .accepted_ns = c->accepted_ns,
                      .proxy_pending = c->proxy_pending, .proxy_buf = c->proxy_buf};
    memcpy(&conn.peer, &c->peer, c->peer_len);
    proxy_in_result r = why ? PROXY_IN_FAILED : proxy_in_try(&conn, &why);
    if (r == PROXY_IN_AGAIN) {
        c->proxy_pending = conn.proxy_pending;
        c->proxy_buf = conn.proxy_buf;
        return; /* still in epoll, its deadline standing */
    }
    /* The state goes: a connection admitted gets its own from on_accepted, like any other. */
    dl_remove(&c->timer);
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    free(c);
    loop->live--;
    if (r == PROXY_IN_DONE)
        proxy_admit(loop, &conn);
    else
        handler_proxy_failed(&loop->srv->cfg->handler, &conn, why, loop->srv->stats);
}

/* --proxy-protocol: a connection fresh from accept reads its header; one that has not all of
 * it in yet waits in PHASE_PROXY (within --io-timeout), as no other connection's state. */
static void proxy_start(event_loop *loop, conn_item *conn)
{
    const handler_config *h = &loop->srv->cfg->handler;
    const char *why;
    proxy_in_result r = proxy_in_try(conn, &why);
    if (r == PROXY_IN_DONE) {
        proxy_admit(loop, conn);
        return;
    }
    event_conn *c = r == PROXY_IN_AGAIN ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        handler_proxy_failed(h, conn, r == PROXY_IN_AGAIN ? "out of memory" : why, loop->srv->stats);
        return;
    }
    c->fd = conn->fd;
    memcpy(&c->peer, &conn->peer, conn->peer_len);
    c->peer_len = conn->peer_len;
    c->proxy_pending = conn->proxy_pending;
    c->proxy_buf = conn->proxy_buf;
    c->accepted_ns = conn->accepted_ns;
    loop->live++;
    if (conn_wait(loop, c, PHASE_PROXY, EPOLLIN | EPOLLRDHUP, io_deadline(loop)) < 0)
        proxy_more(loop, c, "epoll_ctl failed");
}

static void accept_batch(event_loop *loop, acceptor *acc)
{
    for (int i = 0; i < ACCEPT_BATCH && loop->accepting; i++) {
        conn_item conn;
        accept_result r = acceptor_accept(acc, &conn);
        if (r == ACCEPT_OK && loop->drain_until_ns)
            loop->drain_until_ns = clock_now_ns() + ACCEPTOR_DRAIN_GRACE_MS * 1000000ull;
        if (r == ACCEPT_OK && conn.proxy_pending)
            proxy_start(loop, &conn);
        else if (r == ACCEPT_OK)
            on_accepted(loop, &conn);
        else if (r != ACCEPT_TRANSIENT)
            return; /* none left, or out of descriptors: the listener wakes us again */
    }
}

static void drain(event_loop *loop, event_conn *c)
{
    char sink[4096];
    if (c->tls) {
        /* The client's close_notify is what closing must not reset; its EOF may trail. */
        if (tls_await_close_notify(c->tls) == TLS_IO_WANT_READ)
            return;
        conn_free(loop, c);
        return;
    }
    for (size_t total = 0; total < HANDLER_DRAIN_LIMIT;) {
        ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* more may come; its EOF will wake us */
        break;      /* EOF or a reset: done */
    }
    conn_free(loop, c);
}

/* Takes the clients the kernel already connected (acceptor_drain_next), then retires the
 * loop's own listeners: after an upgrade's handover, the successor accepts them instead. */
static void stop_accepting(event_loop *loop)
{
    loop->accepting = 0;
    loop->drain_until_ns = 0;
    /* (clang-analyzer, starting in loop_main, does not know that loop_init gave accs
     * acc_count acceptors.) */
    for (int k = 0; k < loop->acc_count; k++)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->accs[k].listen_fd, NULL); // NOLINT(clang-analyzer-core.NullDereference)
    conn_item conn;
    for (int k = 0; k < loop->acc_count; k++)
        while (acceptor_drain_next(&loop->accs[k], &conn))
            on_accepted(loop, &conn);
}

/* The listeners were quiet for the grace: stop, unless the kernel still holds handshakes
 * under way to one of them (then another grace). */
static void end_drain_grace(event_loop *loop)
{
    for (int k = 0; k < loop->acc_count; k++) {
        if (acceptor_handshakes_pending(&loop->accs[k])) {
            loop->drain_until_ns = clock_now_ns() + ACCEPTOR_DRAIN_GRACE_MS * 1000000ull;
            return;
        }
    }
    stop_accepting(loop);
}

/* A stop: once new handshakes are refused, the listeners stay served until none has
 * brought a client for ACCEPTOR_DRAIN_GRACE_MS (handshakes under way complete meanwhile;
 * acceptor.h), while the loop serves its connections; then stop_accepting. */
static void begin_stop(event_loop *loop)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, shutdown_fd(), NULL); /* it stays readable */
    int refusing = 0;
    for (int k = 0; k < loop->acc_count; k++)
        refusing |= listeners_refusing_new(loop->accs[k].listen_fd); // NOLINT(clang-analyzer-core.NullDereference)
    if (!refusing) {
        stop_accepting(loop);
        return;
    }
    loop->drain_until_ns = clock_now_ns() + ACCEPTOR_DRAIN_GRACE_MS * 1000000ull;
}

/* The acceptor whose listener tag is, or NULL (tag is a connection's). */
static acceptor *acceptor_of(event_loop *loop, const void *tag)
{
    for (int k = 0; k < loop->acc_count; k++)
        if (tag == &loop->accs[k])
            return &loop->accs[k];
    return NULL;
}

/* Handles deadlines that have passed: work done -> greet; I/O waits -> give up. */
static void expire(event_loop *loop)
{
    uint64_t now = clock_now_ns();
    event_conn *c;
    while ((c = DL_FIRST(&loop->working, event_conn, timer)) && c->timer.deadline_ns <= now) {
        c->phase = PHASE_WRITING; /* its I/O deadline starts now */
        dl_append(&loop->waiting_io, &c->timer, io_deadline(loop));
        greet(loop, c);
    }
    /* conn_free and close_failed unlink c, so each pass sees a new head. (clang-analyzer
     * follows these calls without seeing that freeing a connection takes it out of its list
     * first, and reports the next head as freed memory.) */
    dl_list *io = &loop->waiting_io;
    while ((c = DL_FIRST(io, event_conn, timer)) && c->timer.deadline_ns <= now) { // NOLINT(clang-analyzer-unix.Malloc)
        if (c->phase == PHASE_DRAINING) {
            conn_free(loop, c); /* already greeted: stop waiting for its EOF */
            continue;
        }
        if (c->phase == PHASE_PROXY) {
            proxy_more(loop, c, "no whole PROXY header within --io-timeout");
            continue;
        }
        if (c->phase == PHASE_HANDSHAKE)
            server_stats_add(&loop->srv->stats->tls_failed, 1);
        close_failed(loop, c->fd, c);
    }
}

static int next_timeout_ms(event_loop *loop)
{
    uint64_t next = 0;
    if (loop->working.head)
        next = loop->working.head->deadline_ns;
    if (loop->waiting_io.head && (next == 0 || loop->waiting_io.head->deadline_ns < next))
        next = loop->waiting_io.head->deadline_ns;
    if (loop->drain_until_ns && (next == 0 || loop->drain_until_ns < next))
        next = loop->drain_until_ns;
    if (next == 0)
        return -1;
    uint64_t now = clock_now_ns();
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

static void on_conn_event(event_loop *loop, event_conn *c)
{
    switch (c->phase) {
    case PHASE_PROXY: proxy_more(loop, c, NULL); break;
    case PHASE_HANDSHAKE: tls_step_handshake(loop, c); break;
    case PHASE_WRITING: greet(loop, c); break;
    case PHASE_CLOSING: tls_close_notify(loop, c); break;
    case PHASE_DRAINING: drain(loop, c); break;
    case PHASE_WORKING: break; /* not in epoll */
    }
}

static void *loop_main(void *arg)
{
    event_loop *loop = arg;
    struct epoll_event events[MAX_EVENTS];
    while (loop->accepting || loop->live > 0) {
        int n = epoll_wait(loop->epfd, events, MAX_EVENTS, next_timeout_ms(loop));
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            break;
        }
        server_stats_add(&loop->srv->stats->busy, 1); /* a loop is a busy worker while not waiting */
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            acceptor *acc = acceptor_of(loop, tag);
            if (acc)
                accept_batch(loop, acc);
            else if (tag == &stop_tag)
                begin_stop(loop);
            else
                on_conn_event(loop, tag);
        }
        expire(loop);
        if (loop->drain_until_ns && clock_now_ns() >= loop->drain_until_ns)
            end_drain_grace(loop);
        /* 52 MB stayed after three rounds of 1000 stalled TLS handshakes (mem_trim.h) */
        mem_trim_note(loop->trimmer, &loop->surge, (size_t)loop->live);
        server_stats_sub(&loop->srv->stats->busy, 1);
    }
    return NULL;
}

/* Serves the listener fd in loop: an acceptor, in epoll. 0, or -1 with errno. */
static int loop_add_listener(event_loop *loop, int fd, int shared)
{
    acceptor *acc = &loop->accs[loop->acc_count++];
    acceptor_init(acc, fd, &loop->srv->cfg->handler, loop->srv->stats);
    acc->conn_flags |= SOCK_NONBLOCK;
    acc->proxy_header_later = 1; /* read in the loop (proxy_start) */
    acc->shared_listener = shared;
    acc->drain_grace_ms = 0; /* the loop's own wait: it serves its connections meanwhile */
    /* A shared listener wakes one loop per connection, not all of them. */
    struct epoll_event ev = {.events = EPOLLIN | (shared ? EPOLLEXCLUSIVE : 0), .data.ptr = acc};
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int loop_init(event_loop *loop, server *srv, int index, char *err, size_t errlen)
{
    memset(loop, 0, sizeof(*loop));
    loop->srv = srv;
    loop->accepting = 1;
    int n = srv->cfg->workers, total = 1 + srv->loop_count, shared = 0, count = 0;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->accs = calloc((size_t)total / (size_t)n + 1, sizeof(*loop->accs));
    int *fds = calloc((size_t)total / (size_t)n + 1, sizeof(*fds));
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &stop_tag};
    if (loop->epfd < 0 || loop->accs == NULL || fds == NULL ||
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, shutdown_fd(), &sev) < 0)
        goto out_fail;
    /* Most often one listener each (loop_listeners_open opens one per loop); more when an
     * upgrade handed over more than this process runs loops, all served so that no client
     * waits in one unseen; with fewer listeners than loops (a UNIX socket) the loops share. */
    count = loop_listeners_deal(srv->listen_fd, srv->loop_fds, srv->loop_count, index, n, fds,
                                &shared);
    for (int k = 0; k < count; k++)
        if (loop_add_listener(loop, fds[k], shared) < 0)
            goto out_fail;
    free(fds);
    return 0;
out_fail:
    snprintf(err, errlen, "epoll for loop %d: %s", index,
             loop->accs && fds ? strerror(errno) : "out of memory");
    free(fds);
    return -1;
}

static void loop_destroy(event_loop *loop)
{
    for (int k = 0; k < loop->acc_count; k++)
        acceptor_destroy(&loop->accs[k]);
    free(loop->accs);
    if (loop->epfd >= 0)
        close(loop->epfd);
}

static int loop_prepare(void *item, int index, char *err, size_t errlen)
{
    event_loop *loop = item;
    mem_trimmer *trimmer = loop->trimmer; /* loop_init starts from zero */
    if (loop_init(loop, loop->srv, index, err, errlen) == 0) {
        loop->trimmer = trimmer;
        return 0;
    }
    loop_destroy(loop);
    return -1;
}

static void loop_release(void *item) { loop_destroy(item); }

int model_event_run(server *srv, char *err, size_t errlen)
{
    if (srv->cfg->udp)
        return udp_serve(srv, srv->cfg->workers, err, errlen);
    int n = srv->cfg->workers;
    event_loop *loops = calloc((size_t)n, sizeof(*loops));
    mem_trimmer *trimmer = loops ? mem_trimmer_create(MEM_TRIM_SETTLE_NS, err, errlen) : NULL;
    if (trimmer == NULL) {
        if (loops == NULL)
            snprintf(err, errlen, "event: out of memory for %d loops", n);
        free(loops);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        loops[i].srv = srv;
        loops[i].trimmer = trimmer;
    }
    static const thread_set_ops ops = {loop_prepare, loop_main, loop_release};
    int rc = thread_set_run("event", loops, sizeof(*loops), n, &ops, err, errlen);
    mem_trimmer_destroy(trimmer);
    free(loops);
    return rc;
}
