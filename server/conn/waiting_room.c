/* waiting_room.c -- the pool's waiting room: connections that wait on their peer wait in one epoll thread, not in a worker (as in Apache's event MPM). */
#include "waiting_room.h"

#include "acceptor.h"
#include "cidr.h"
#include "clock.h"
#include "dlist.h"
#include "log.h"
#include "mem_trim.h"
#include "net.h"
#include "shutdown.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256

/* How long the room spends on light TLS steps of its own in one round (a step is some tens of
 * microseconds: checking the client's Finished, a session ticket, the greeting's record,
 * close_notify). Past it, the round's other TLS steps go to the workers, so the room stays
 * one thread's work when many connections are ready at once, and its rounds stay short. */
#define ROOM_LIGHT_BUDGET_NS 1000000u

/* How often the room looks at the closing connections at least (ROOM_DRAINING, in their own
 * epoll set): nobody waits for the client's close_notify or EOF (it has its greeting), so
 * they are read when the room wakes anyway, and cost no wake-up of their own under load. */
#define ROOM_CLOSING_POLL_MS 5

/* Deadlines already past: net_write_all sends what fits and never polls. */
#define NO_WAIT_NS 1u

typedef enum {
    ROOM_PROXY,     /* --proxy-protocol: the PROXY header is not all in (the room reads it) */
    ROOM_HANDSHAKE, /* TLS: the handshake wants to read or write */
    ROOM_TLS_WRITE, /* TLS: the greeting wants room */
    ROOM_CLOSING,   /* TLS: close_notify wants to be written */
    ROOM_WRITE,     /* plain: the greeting did not fit the socket buffer (the room writes) */
    ROOM_DRAINING   /* greeted; reading the peer's leftovers until its EOF (the room reads) */
} room_phase;

/* A connection that has waited, or is about to. Owned by one thread at a time: the worker
 * serving it, or the room from the start of its wait (hold) to the end of the step that
 * follows (or to its hand-back to a worker). */
typedef struct room_conn {
    conn_item conn;
    /* The handler's settings with the greeting and TLS context of the generation this
     * connection started with (handler_view), held until it closes (gen NULL: no reloads). */
    handler_config view;
    reload_gen *gen;
    const char *outcome;  /* for the access log: greeted, failed or tls_failed */
    tls_conn *tls;        /* NULL for plain TCP */
    room_phase phase;
    uint64_t deadline_ns; /* of the phase: set when the phase starts, kept across its waits */
    int registered_in;    /* the room's epoll set its fd is in (disarmed between waits), or -1 */
    size_t done;          /* greeting bytes sent, or (draining) bytes discarded */
    /* The server's part is done (greeting and close_notify written, the FIN on its way) and
     * the room waits for the client's side of the close: the connection was timed then, since
     * that wait is the client's (and the room checks it lazily). */
    int served;
    /* Its admission place (--max-conns, --max-per-ip) is held until the descriptor is
     * closed, or until a new connection at a cap reclaims it (waiting_room_reclaim). Read and
     * written under the room's lock once listed in linger (before that, nobody else sees it). */
    int holds_place;
    /* While served and holding a place: in the room's lingering list, oldest first (from
     * greeted, before its FIN); once reclaimed, in its evicted list until the room closes it. */
    dl_node linger;
    dl_node timer;        /* in the room's timers while it waits */
    struct room_conn *next_expired;
} room_conn;

/*
 * Whoever holds a connection that must wait (a worker, or the room's thread) starts the wait
 * itself: it arms the fd in the room's epoll set and puts it into timers, and wakes the room
 * (wake_fd) only when that deadline is the room's nearest, or when it is the first closing
 * connection (the room then bounds its sleep by ROOM_CLOSING_POLL_MS). A connection parked
 * between the client's flights so costs no wake-up of its own: the room's thread wakes for
 * the peers' events and for deadlines. Lock rules: timers, closing, stopping, lingering and
 * evicted (and a listed connection's holds_place) are read and written with lock held;
 * everything else is the room thread's alone (after start).
 */
struct waiting_room {
    const handler_config *h;
    server_stats *stats;
    conn_queue *queue;
    int epfd, wake_fd;
    int closing_epfd; /* the connections in ROOM_DRAINING wait here, polled without sleep */
    pthread_t thread;
    pthread_mutex_t lock;
    int stopping;
    dl_list timers; /* waiting connections by deadline */
    int closing;    /* connections in timers that wait in closing_epfd */
    /* Served connections that hold an admission place (only with caps), oldest first, and
     * those a new connection reclaimed, which the room closes at the end of its round. */
    dl_list lingering, evicted;
    _Atomic size_t live;  /* room_conns allocated: the size of a surge */
    mem_trimmer *trimmer; /* gives a surge's memory back once it is over */
    mem_surge surge;      /* room thread's */
};

static char wake_tag; /* epoll data of wake_fd */

static void enter_phase(waiting_room *room, room_conn *c, room_phase phase)
{
    c->phase = phase;
    c->deadline_ns = clock_now_ns() + (uint64_t)room->h->io_timeout_ms * 1000000u;
}

/* The end of every connection, counted greeted or failed before: closes its socket, times
 * it unless that was done when its close began (served), and gives its admission place back
 * unless a new connection took it over (holds_place 0). The close takes the socket out of
 * the room's epoll sets only with its last descriptor, and an upgrade's fork holds copies
 * until it execs; what keeps a freed connection from being reported meanwhile is that its
 * registrations are one-shot and already fired, or removed first (expiry, eviction). */
static void item_close(waiting_room *room, const conn_item *item, reload_gen *gen,
                       const char *outcome, int served, int holds_place)
{
    close(item->fd);
    if (gen)
        reload_release(gen);
    if (!served)
        server_stats_observe_duration(room->stats, item->accepted_ns);
    if (holds_place && room->h->admission)
        admission_release(room->h->admission, (const struct sockaddr *)&item->peer);
    handler_log_done(room->h, item, outcome);
}

static void conn_close(waiting_room *room, room_conn *c)
{
    int holds_place = c->holds_place;
    if (c->served) { /* waiting_room_reclaim may have taken its place meanwhile */
        pthread_mutex_lock(&room->lock);
        dl_remove(&c->linger);
        holds_place = c->holds_place;
        pthread_mutex_unlock(&room->lock);
    }
    tls_conn_free(c->tls);
    item_close(room, &c->conn, c->gen, c->outcome, c->served, holds_place);
    atomic_fetch_sub_explicit(&room->live, 1, memory_order_relaxed);
    free(c);
}

static void conn_failed(waiting_room *room, room_conn *c)
{
    server_stats_add(&room->stats->failed, 1);
    conn_close(room, c);
}

static void conn_tls_failed(waiting_room *room, room_conn *c, const char *why)
{
    handler_tls_failed(&c->conn, why, room->stats);
    c->outcome = "tls_failed";
    conn_close(room, c);
}

/* --proxy-protocol: a connection that waited for its PROXY header in vain (never admitted,
 * no generation held): out of the room's epoll set, closed unanswered, freed. */
static void proxy_gone(waiting_room *room, room_conn *c, const char *why)
{
    if (c->registered_in >= 0)
        epoll_ctl(c->registered_in, EPOLL_CTL_DEL, c->conn.fd, NULL);
    handler_proxy_failed(room->h, &c->conn, why, room->stats);
    free(c);
}

/* Starts c's wait for events (EPOLLIN or EPOLLOUT, plus EPOLLRDHUP) until its phase's
 * deadline; from here on c is the room's. Any thread. */
static void hold(waiting_room *room, room_conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.ptr = c};
    int closing = c->phase == ROOM_DRAINING;
    int epfd = closing ? room->closing_epfd : room->epfd;
    pthread_mutex_lock(&room->lock);
    int rc = epoll_ctl(epfd, c->registered_in == epfd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->conn.fd,
                       &ev);
    int nearest = 0;
    if (rc == 0) {
        c->registered_in = epfd; /* a move to closing_epfd leaves it disarmed in epfd */
        dl_insert_sorted(&room->timers, &c->timer, c->deadline_ns);
        room->closing += closing;
        /* the room may sleep past its deadline, or (the first closing one) past the poll, or
         * past its eviction (reclaimed before it waited: close_evicted left it for now) */
        nearest = room->timers.head == &c->timer || (closing && room->closing == 1) ||
                  c->linger.owner == &room->evicted;
    }
    pthread_mutex_unlock(&room->lock);
    if (rc < 0) {
        log_warn("waiting room: epoll_ctl: %s", strerror(errno));
        if (c->phase == ROOM_PROXY)
            proxy_gone(room, c, "epoll_ctl failed");
        else if (c->phase == ROOM_DRAINING)
            conn_close(room, c); /* greeted already */
        else
            conn_failed(room, c);
    } else if (nearest && eventfd_write(room->wake_fd, 1) < 0) {
        log_warn("waiting room: eventfd: %s", strerror(errno));
    }
}

/* The greeting is out (and close_notify, over TLS): counts it greeted, then closes now if
 * that is safe, else half-closes and lets the room wait for the peer's EOF. */
static void greeted(waiting_room *room, room_conn *c, int linger)
{
    server_stats_add(&room->stats->greeted, 1);
    c->outcome = "greeted";
    if (!linger && net_close_is_safe(c->conn.fd)) {
        conn_close(room, c);
        return;
    }
    c->served = 1;
    if (c->holds_place && room->h->admission) {
        /* Reclaimable before the client sees its greeting end (the FIN, which also sends a
         * TLS close_notify held back, unless the kernel let it out after some 200 ms): a
         * client that reconnects at once gets the place on demand, not a busy answer (hold
         * would list it only after the FIN). */
        pthread_mutex_lock(&room->lock);
        dl_append(&room->lingering, &c->linger, 0);
        pthread_mutex_unlock(&room->lock);
    }
    shutdown(c->conn.fd, SHUT_WR);
    server_stats_observe_duration(room->stats, c->conn.accepted_ns); /* the server's part */
    enter_phase(room, c, ROOM_DRAINING);
    c->done = 0;
    hold(room, c, EPOLLIN | EPOLLRDHUP);
}

/* Plain: writes what is left of the greeting, without waiting. */
static void write_plain(waiting_room *room, room_conn *c)
{
    size_t written = 0;
    net_io_result r = net_write_all(c->conn.fd, c->view.greeting + c->done,
                                    c->view.greeting_len - c->done, NO_WAIT_NS, &written);
    c->done += written;
    if (r == NET_IO_DONE)
        greeted(room, c, 0);
    else if (r == NET_IO_AGAIN)
        hold(room, c, EPOLLOUT);
    else
        conn_failed(room, c);
}

/* TLS: one step of the current phase; DONE moves on to the next phase. */
static tls_io_result tls_step(waiting_room *room, room_conn *c)
{
    const handler_config *h = &c->view;
    switch (c->phase) {
    case ROOM_HANDSHAKE: {
        tls_io_result r = tls_handshake(c->tls);
        if (r == TLS_IO_DONE) {
            handler_do_work(h);
            enter_phase(room, c, h->greeting_len > 0 ? ROOM_TLS_WRITE : ROOM_CLOSING);
        }
        return r;
    }
    case ROOM_TLS_WRITE: {
        size_t written = 0;
        tls_io_result r = tls_write(c->tls, h->greeting + c->done, h->greeting_len - c->done,
                                    &written);
        c->done += written;
        if (r == TLS_IO_DONE && c->done == h->greeting_len)
            enter_phase(room, c, ROOM_CLOSING);
        return r;
    }
    default: /* ROOM_CLOSING */
        return tls_shutdown(c->tls);
    }
}

/* TLS: steps c until it is greeted, fails, or waits on the peer (then the room holds it). */
static void serve_tls(waiting_room *room, room_conn *c)
{
    for (;;) {
        room_phase phase = c->phase;
        tls_io_result r = tls_step(room, c);
        if (r == TLS_IO_DONE && phase == ROOM_CLOSING) {
            greeted(room, c, 1); /* the client answers close_notify with its own: drain() */
            return;
        }
        if (r == TLS_IO_DONE)
            continue;
        if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
            if (tls_push(c->tls) < 0) {
                conn_failed(room, c);
                return;
            }
            hold(room, c, r == TLS_IO_WANT_READ ? EPOLLIN : EPOLLOUT);
            return;
        }
        if (phase == ROOM_HANDSHAKE) {
            conn_tls_failed(room, c, tls_last_error(c->tls));
        } else {
            conn_failed(room, c);
        }
        return;
    }
}

/* The state of a connection about to wait, or NULL (then it was closed, counted failed). It
 * takes over the generation gen of view. */
static room_conn *conn_new(waiting_room *room, const conn_item *item, const handler_config *view,
                           reload_gen *gen)
{
    room_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_warn("waiting room: out of memory");
        server_stats_add(&room->stats->failed, 1);
        item_close(room, item, gen, "failed", 0, 1);
        return NULL;
    }
    atomic_fetch_add_explicit(&room->live, 1, memory_order_relaxed);
    c->holds_place = 1;
    c->conn = *item;
    c->conn.resume = NULL;
    c->registered_in = -1;
    c->view = *view;
    c->gen = gen;
    c->outcome = "failed";
    return c;
}

static void serve_new_tls(waiting_room *room, const conn_item *item)
{
    handler_config view;
    reload_gen *gen = handler_view(room->h, &view);
    room_conn *c = conn_new(room, item, &view, gen);
    if (c == NULL)
        return;
    char err[TLS_ERRLEN];
    c->tls = tls_conn_new(c->view.tls, c->conn.fd, NULL, err, sizeof(err));
    if (c->tls == NULL) {
        conn_tls_failed(room, c, err);
        return;
    }
    /* What follows the server's flight (the ticket, the greeting, close_notify) leaves in one
     * segment with greeted's FIN. */
    tls_hold_sends(c->tls);
    enter_phase(room, c, ROOM_HANDSHAKE);
    serve_tls(room, c);
}

/* Plain: the greeting in one send when it fits the socket buffer (the common case, with no
 * allocation); a connection is made to wait only for what did not fit, or for a linger. */
static void serve_new_plain(waiting_room *room, const conn_item *item)
{
    handler_config view;
    reload_gen *gen = handler_view(room->h, &view);
    handler_do_work(&view);
    size_t sent = 0;
    net_io_result r = net_write_all(item->fd, view.greeting, view.greeting_len, NO_WAIT_NS, &sent);
    if (r == NET_IO_DONE && net_close_is_safe(item->fd)) {
        server_stats_add(&room->stats->greeted, 1);
        item_close(room, item, gen, "greeted", 0, 1);
        return;
    }
    room_conn *c = conn_new(room, item, &view, gen);
    if (c == NULL)
        return;
    if (r == NET_IO_DONE) {
        greeted(room, c, 1); /* not safe to close yet: linger */
    } else if (r == NET_IO_AGAIN) {
        enter_phase(room, c, ROOM_WRITE);
        c->done = sent;
        hold(room, c, EPOLLOUT);
    } else {
        conn_failed(room, c);
    }
}

/* A connection fresh from accept, or whose PROXY header the room has read. */
static void serve_fresh(waiting_room *room, const conn_item *item)
{
    if (room->h->access_log == ACCESS_LOG_TUTORIAL)
        handler_log_peer(item);
    if (room->h->tls)
        serve_new_tls(room, item);
    else
        serve_new_plain(room, item);
}

/* The admission busy hook of a connection admitted here after its PROXY header: a lingering
 * close of the same address (or, at --max-conns, any) gives its place up, as at accept. */
static int reclaim_hook(void *arg, const struct sockaddr *peer)
{
    return waiting_room_reclaim(arg, peer);
}

/* --proxy-protocol, in a worker: reads the PROXY header of a connection fresh from accept;
 * with it, admission decides. One whose header is not all in yet waits in the room
 * (proxy_ready). Returns 1 when item (now with the client's address) is to be served. */
static int proxy_first(waiting_room *room, conn_item *item)
{
    const char *why;
    proxy_in_result r = proxy_in_try(item, &why);
    if (r == PROXY_IN_DONE)
        return acceptor_admit_item(room->h, room->stats, item, reclaim_hook, room);
    room_conn *c = r == PROXY_IN_AGAIN ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        handler_proxy_failed(room->h, item, r == PROXY_IN_AGAIN ? "out of memory" : why, room->stats);
        return 0;
    }
    c->conn = *item;
    c->registered_in = -1;
    c->view = *room->h;
    enter_phase(room, c, ROOM_PROXY);
    hold(room, c, EPOLLIN | EPOLLRDHUP);
    return 0;
}

int waiting_room_is_instant(const waiting_room *room, const conn_item *item)
{
    const handler_config *h = room->h;
    /* An access-log line is a write that may block (a pipe to a stalled reader). */
    return !h->tls && h->work_us == 0 && h->access_log == ACCESS_LOG_OFF && !item->proxy_pending;
}

void waiting_room_serve(waiting_room *room, const conn_item *item)
{
    server_stats_add(&room->stats->busy, 1); /* a worker busy with a connection */
    if (item->resume != NULL) {
        serve_tls(room, item->resume); /* the room hands back only TLS work */
    } else if (item->proxy_pending) {
        conn_item fresh = *item;
        if (proxy_first(room, &fresh))
            serve_fresh(room, &fresh);
    } else {
        serve_fresh(room, item);
    }
    server_stats_sub(&room->stats->busy, 1);
}

/* ---- the room's thread ---- */

/* Room thread: reads what is left until the peer's EOF, at most HANDLER_DRAIN_LIMIT in all;
 * over TLS, until the peer's close_notify. */
static void drain(waiting_room *room, room_conn *c)
{
    char sink[4096];
    if (c->tls) {
        /* TLS: the client's close_notify is what closing must not reset; not its EOF, which
         * trails it and would cost a wake-up more (results/tls-vs-nginx.md). */
        if (tls_await_close_notify(c->tls) == TLS_IO_WANT_READ)
            hold(room, c, EPOLLIN | EPOLLRDHUP);
        else
            conn_close(room, c);
        return;
    }
    while (c->done < HANDLER_DRAIN_LIMIT) {
        ssize_t n = recv(c->conn.fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n > 0) {
            c->done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            hold(room, c, EPOLLIN | EPOLLRDHUP); /* more may come; its EOF wakes us */
            return;
        }
        break; /* EOF or a reset: done */
    }
    conn_close(room, c);
}

/* Room thread: one round's TLS steps that are not the room's to take (a key exchange, or
 * light steps past the round's budget), handed back to the workers in one push. When the
 * queue is full, or closed (a drain), the room takes them itself rather than wait or lose
 * them. */
typedef struct room_round {
    conn_item hand_back[MAX_EVENTS];
    size_t hand_backs;
    uint64_t light_ns; /* spent on light TLS steps so far */
} room_round;

static void round_hand_back(waiting_room *room, room_round *round)
{
    /* Never waits for room in the queue: the room would stop serving its other connections
     * (timeouts, closes, plain writes). What does not fit, the room steps itself. */
    size_t pushed = round->hand_backs ? conn_queue_push_many(room->queue, round->hand_back,
                                                             round->hand_backs, 0, NULL)
                                      : 0;
    for (size_t i = pushed; i < round->hand_backs; i++) {
        if (round->hand_back[i].resume)
            serve_tls(room, round->hand_back[i].resume);
        else
            serve_fresh(room, &round->hand_back[i]); /* its PROXY header was just read */
    }
    round->hand_backs = 0;
}

/* Room thread, --proxy-protocol: more of c's PROXY header came. Once it is all in and
 * admission lets the client in, the connection goes to a worker as if fresh from accept (its
 * accept time kept for the connection-time histogram), in the round's hand-back. */
static void proxy_ready(waiting_room *room, room_conn *c, room_round *round)
{
    const char *why;
    switch (proxy_in_try(&c->conn, &why)) {
    case PROXY_IN_AGAIN:
        hold(room, c, EPOLLIN | EPOLLRDHUP); /* its deadline stands */
        return;
    case PROXY_IN_FAILED:
        proxy_gone(room, c, why);
        return;
    case PROXY_IN_DONE:
        break;
    }
    /* Out of the room's set: a worker may hold it there again, from scratch. */
    epoll_ctl(c->registered_in, EPOLL_CTL_DEL, c->conn.fd, NULL);
    conn_item item = c->conn;
    free(c);
    item.resume = NULL;
    if (acceptor_admit_item(room->h, room->stats, &item, reclaim_hook, room))
        round->hand_back[round->hand_backs++] = item;
}

/* Whether c's next TLS step is light enough for the room: not the key exchange, and not the
 * end of the handshake when --work-us work follows it (that work is the workers'). */
static int light_step_next(const room_conn *c)
{
    if (c->phase != ROOM_HANDSHAKE)
        return 1;
    return c->view.work_us == 0 && tls_handshake_rest_is_light(c->tls);
}

/* Room thread: c's wait is over (its event came). The room writes plain greetings, drains
 * closes and takes light TLS steps itself (within the round's budget); other TLS steps are
 * CPU work for the workers. */
static void on_ready(waiting_room *room, room_conn *c, room_round *round)
{
    pthread_mutex_lock(&room->lock);
    dl_remove(&c->timer);
    room->closing -= c->phase == ROOM_DRAINING;
    pthread_mutex_unlock(&room->lock);
    if (c->phase == ROOM_PROXY) {
        proxy_ready(room, c, round);
    } else if (c->phase == ROOM_DRAINING) {
        drain(room, c);
    } else if (c->phase == ROOM_WRITE) {
        write_plain(room, c);
    } else if (round->light_ns < ROOM_LIGHT_BUDGET_NS && light_step_next(c)) {
        uint64_t start = clock_now_ns();
        serve_tls(room, c);
        round->light_ns += clock_now_ns() - start;
    } else {
        conn_item *item = &round->hand_back[round->hand_backs++];
        *item = c->conn;
        item->resume = c;
        item->accepted_ns = clock_now_ns(); /* the queue reads it as the time of the push */
    }
}

/* Room thread: gives up on the connections whose deadline has passed. */
static void expire(waiting_room *room)
{
    uint64_t now = clock_now_ns();
    room_conn *c, *expired = NULL;
    pthread_mutex_lock(&room->lock);
    while ((c = DL_FIRST(&room->timers, room_conn, timer)) && c->timer.deadline_ns <= now) {
        dl_remove(&c->timer);
        room->closing -= c->phase == ROOM_DRAINING;
        c->next_expired = expired;
        expired = c;
    }
    pthread_mutex_unlock(&room->lock);
    while ((c = expired) != NULL) {
        expired = c->next_expired;
        /* Still armed: out of the set before its memory goes, even if a forked process
         * (an upgrade's, before its exec) holds the socket open past our close. */
        epoll_ctl(c->registered_in, EPOLL_CTL_DEL, c->conn.fd, NULL);
        if (c->phase == ROOM_PROXY) {
            c->registered_in = -1; /* out already */
            proxy_gone(room, c, "no whole PROXY header within --io-timeout");
        } else if (c->phase == ROOM_DRAINING) {
            conn_close(room, c); /* greeted already: stop waiting for its EOF */
        } else if (c->phase == ROOM_HANDSHAKE) {
            conn_tls_failed(room, c, "TLS handshake: timed out");
        } else {
            conn_failed(room, c);
        }
    }
}

/* Room thread, between rounds: closes the evicted connections (those whose place a new one
 * reclaimed) that wait in timers; a round's steps are over, so those are the room's alone. One
 * that a worker listed in greeted but has not yet held stays in the list: its hold wakes the
 * room. */
static void close_evicted(waiting_room *room)
{
    room_conn *c, *evicted = NULL;
    pthread_mutex_lock(&room->lock);
    for (dl_node *n = room->evicted.head, *next; n != NULL; n = next) {
        next = n->next;
        c = DL_ENTRY(n, room_conn, linger);
        if (!dl_listed(&c->timer))
            continue;
        dl_remove(&c->linger);
        room->closing -= c->phase == ROOM_DRAINING;
        dl_remove(&c->timer);
        c->next_expired = evicted;
        evicted = c;
    }
    pthread_mutex_unlock(&room->lock);
    while ((c = evicted) != NULL) {
        evicted = c->next_expired;
        epoll_ctl(c->registered_in, EPOLL_CTL_DEL, c->conn.fd, NULL); /* as in expire */
        conn_close(room, c);
    }
}

/* Whether a and b are one client address (the port aside); UNIX peers have none. */
static int same_address(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    uint8_t ka[16], kb[16];
    return cidr_key(a, ka) == 0 && cidr_key((const struct sockaddr *)b, kb) == 0 &&
           memcmp(ka, kb, sizeof(ka)) == 0;
}

/* Moves the oldest lingering connection of peer's address (of any, when peer is NULL) to
 * the evicted list and gives its place back; 0 when there is none. */
static int reclaim_one(waiting_room *room, const struct sockaddr *peer)
{
    struct sockaddr_storage freed;
    room_conn *found = NULL;
    pthread_mutex_lock(&room->lock);
    for (dl_node *n = room->lingering.head; n != NULL && found == NULL; n = n->next) {
        room_conn *c = DL_ENTRY(n, room_conn, linger);
        if (peer == NULL || same_address(peer, &c->conn.peer))
            found = c;
    }
    if (found) {
        dl_append(&room->evicted, &found->linger, 0);
        found->holds_place = 0;
        freed = found->conn.peer;
    }
    pthread_mutex_unlock(&room->lock);
    if (found == NULL)
        return 0;
    admission_release(room->h->admission, (const struct sockaddr *)&freed);
    if (eventfd_write(room->wake_fd, 1) < 0)
        log_warn("waiting room: eventfd: %s", strerror(errno));
    return 1;
}

int waiting_room_reclaim(waiting_room *room, const struct sockaddr *peer)
{
    if (room->h->admission == NULL)
        return 0;
    if (reclaim_one(room, peer))
        return 1;
    /* Another address's place helps only when --max-conns, not this address's cap, is hit. */
    return !admission_address_full(room->h->admission, peer) && reclaim_one(room, NULL);
}

/* Room thread: how long to sleep for the nearest deadline (-1: none), or ROOM_DONE once a
 * stop was asked and nothing waits. */
#define ROOM_DONE (-2)
static int next_timeout_ms(waiting_room *room)
{
    int ms = -1;
    pthread_mutex_lock(&room->lock);
    if (room->timers.head != NULL) {
        uint64_t next = room->timers.head->deadline_ns, now = clock_now_ns();
        ms = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
        if (room->closing > 0 && ms > ROOM_CLOSING_POLL_MS)
            ms = ROOM_CLOSING_POLL_MS;
    } else if (room->stopping) {
        ms = ROOM_DONE;
    }
    pthread_mutex_unlock(&room->lock);
    return ms;
}

static int room_closing(waiting_room *room)
{
    pthread_mutex_lock(&room->lock);
    int closing = room->closing;
    pthread_mutex_unlock(&room->lock);
    return closing > 0;
}

static void *room_main(void *arg)
{
    waiting_room *room = arg;
    struct epoll_event events[MAX_EVENTS];
    room_round round;
    int timeout_ms;
    while ((timeout_ms = next_timeout_ms(room)) != ROOM_DONE) {
        int n = epoll_wait(room->epfd, events, MAX_EVENTS, timeout_ms);
        if (n < 0 && errno != EINTR) {
            log_error("waiting room: epoll_wait: %s", strerror(errno));
            break;
        }
        round.hand_backs = 0;
        round.light_ns = 0;
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &wake_tag) {
                eventfd_t ignored;
                (void)eventfd_read(room->wake_fd, &ignored); /* a nearer deadline, or a stop */
            } else {
                on_ready(room, events[i].data.ptr, &round);
            }
        }
        if (room_closing(room)) { /* whatever of theirs came meanwhile, without a wait */
            n = epoll_wait(room->closing_epfd, events, MAX_EVENTS, 0);
            for (int i = 0; i < n; i++)
                on_ready(room, events[i].data.ptr, &round);
        }
        round_hand_back(room, &round);
        expire(room);
        close_evicted(room);
        mem_trim_note(room->trimmer, &room->surge,
                      atomic_load_explicit(&room->live, memory_order_relaxed));
    }
    return NULL;
}

waiting_room *waiting_room_start(const handler_config *handler, server_stats *stats,
                                 conn_queue *queue, char *err, size_t errlen)
{
    waiting_room *room = calloc(1, sizeof(*room));
    if (room == NULL) {
        snprintf(err, errlen, "waiting room: out of memory");
        return NULL;
    }
    room->h = handler;
    room->stats = stats;
    room->queue = queue;
    pthread_mutex_init(&room->lock, NULL);
    room->epfd = epoll_create1(EPOLL_CLOEXEC);
    room->closing_epfd = epoll_create1(EPOLL_CLOEXEC);
    room->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_tag};
    if ((room->trimmer = mem_trimmer_create(MEM_TRIM_SETTLE_NS, err, errlen)) == NULL)
        goto out_free;
    if (room->epfd < 0 || room->closing_epfd < 0 || room->wake_fd < 0 ||
        epoll_ctl(room->epfd, EPOLL_CTL_ADD, room->wake_fd, &ev) < 0) {
        snprintf(err, errlen, "waiting room: %s", strerror(errno));
        goto out_free;
    }
    int rc = shutdown_thread_create(&room->thread, NULL, room_main, room);
    if (rc != 0) {
        snprintf(err, errlen, "waiting room: start thread: %s", strerror(rc));
        goto out_free;
    }
    pthread_setname_np(room->thread, "waiting-room");
    return room;
out_free:
    if (room->epfd >= 0)
        close(room->epfd);
    if (room->closing_epfd >= 0)
        close(room->closing_epfd);
    if (room->wake_fd >= 0)
        close(room->wake_fd);
    mem_trimmer_destroy(room->trimmer);
    pthread_mutex_destroy(&room->lock);
    free(room);
    return NULL;
}

void waiting_room_stop(waiting_room *room)
{
    if (room == NULL)
        return;
    pthread_mutex_lock(&room->lock);
    room->stopping = 1;
    pthread_mutex_unlock(&room->lock);
    if (eventfd_write(room->wake_fd, 1) < 0)
        log_warn("waiting room: eventfd: %s", strerror(errno));
    pthread_join(room->thread, NULL);
    close(room->epfd);
    close(room->closing_epfd);
    close(room->wake_fd);
    mem_trimmer_destroy(room->trimmer);
    pthread_mutex_destroy(&room->lock);
    free(room);
}
