/* waiting_room.c -- the pool's waiting room: connections that wait on their peer wait in one epoll thread, not in a worker (as in Apache's event MPM). */
#include "waiting_room.h"

#include "clock.h"
#include "dlist.h"
#include "log.h"
#include "net.h"
#include "shutdown.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256

/* Deadlines already past: net_write_all sends what fits and never polls. */
#define NO_WAIT_NS 1u

typedef enum {
    ROOM_HANDSHAKE, /* TLS: the handshake wants to read or write (a worker steps it) */
    ROOM_TLS_WRITE, /* TLS: the greeting wants room (a worker encrypts the rest) */
    ROOM_CLOSING,   /* TLS: close_notify wants to be written (a worker sends it) */
    ROOM_WRITE,     /* plain: the greeting did not fit the socket buffer (the room writes) */
    ROOM_DRAINING   /* greeted; reading the peer's leftovers until its EOF (the room reads) */
} room_phase;

/* A connection that has waited, or is about to. Owned by one thread at a time: the worker
 * serving it, or the room while it is parked (from waiting_room_park to the hand-back). */
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
    uint32_t events;      /* what it waits for: EPOLLIN or EPOLLOUT */
    int in_epoll;         /* room thread only */
    size_t done;          /* greeting bytes sent, or (draining) bytes discarded */
    dl_node timer;        /* room thread only: in the room's list while parked */
    struct room_conn *next_in_inbox;
} room_conn;

/*
 * Lock rules: inbox, inbox_tail and stopping are read and written with lock held; workers
 * append to the inbox and write wake_fd when they made it non-empty. Everything else is the
 * room thread's alone (after start).
 */
struct waiting_room {
    const handler_config *h;
    server_stats *stats;
    conn_queue *queue;
    int epfd, wake_fd;
    pthread_t thread;
    pthread_mutex_t lock;
    room_conn *inbox, *inbox_tail;
    int stopping;
    dl_list timers; /* parked connections by deadline */
    int parked;     /* connections in timers */
};

static char wake_tag; /* epoll data of wake_fd */

static uint64_t phase_deadline(const waiting_room *room)
{
    return clock_now_ns() + (uint64_t)room->h->io_timeout_ms * 1000000u;
}

static void enter_phase(waiting_room *room, room_conn *c, room_phase phase)
{
    c->phase = phase;
    c->deadline_ns = phase_deadline(room);
}

/* The end of every connection, counted greeted or failed before: releases its admission
 * slot, closes its socket (which also takes it out of the room's epoll set), and times it. */
static void item_close(waiting_room *room, const conn_item *item, reload_gen *gen,
                       const char *outcome)
{
    if (room->h->admission)
        admission_release(room->h->admission, (const struct sockaddr *)&item->peer);
    close(item->fd);
    if (gen)
        reload_release(gen);
    server_stats_observe_duration(room->stats, item->accepted_ns);
    handler_log_done(room->h, item, outcome);
}

static void conn_close(waiting_room *room, room_conn *c)
{
    tls_conn_free(c->tls);
    item_close(room, &c->conn, c->gen, c->outcome);
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

/* Hands c to the room to wait for events (any thread). */
static void park(waiting_room *room, room_conn *c, uint32_t events)
{
    c->events = events;
    c->next_in_inbox = NULL;
    pthread_mutex_lock(&room->lock);
    int was_empty = room->inbox == NULL;
    if (was_empty)
        room->inbox = c;
    else
        room->inbox_tail->next_in_inbox = c;
    room->inbox_tail = c;
    pthread_mutex_unlock(&room->lock);
    if (was_empty && eventfd_write(room->wake_fd, 1) < 0)
        log_warn("waiting room: eventfd: %s", strerror(errno));
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
    shutdown(c->conn.fd, SHUT_WR);
    enter_phase(room, c, ROOM_DRAINING);
    c->done = 0;
    park(room, c, EPOLLIN | EPOLLRDHUP);
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
        park(room, c, EPOLLOUT);
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

/* TLS: steps c until it is greeted, fails, or waits on the peer (then it is parked). */
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
            park(room, c, r == TLS_IO_WANT_READ ? EPOLLIN : EPOLLOUT);
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
        item_close(room, item, gen, "failed");
        return NULL;
    }
    c->conn = *item;
    c->conn.resume = NULL;
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
        item_close(room, item, gen, "greeted");
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
        park(room, c, EPOLLOUT);
    } else {
        conn_failed(room, c);
    }
}

void waiting_room_serve(waiting_room *room, const conn_item *item)
{
    server_stats_add(&room->stats->busy, 1); /* a worker busy with a connection */
    if (item->resume != NULL) {
        serve_tls(room, item->resume); /* the room hands back only TLS work */
    } else {
        if (room->h->access_log == ACCESS_LOG_TUTORIAL)
            handler_log_peer(item);
        if (room->h->tls)
            serve_new_tls(room, item);
        else
            serve_new_plain(room, item);
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
            park(room, c, EPOLLIN | EPOLLRDHUP);
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
            park(room, c, EPOLLIN | EPOLLRDHUP); /* more may come; its EOF wakes us */
            return;
        }
        break; /* EOF or a reset: done */
    }
    conn_close(room, c);
}

/* Room thread: a TLS step is CPU work for a worker; once the queue is closed (a drain), the
 * room does it here rather than lose the connection. */
static void hand_back(waiting_room *room, room_conn *c)
{
    conn_item item = c->conn;
    item.resume = c;
    item.accepted_ns = clock_now_ns(); /* the queue reads it as the time of the push */
    if (conn_queue_push_many(room->queue, &item, 1, 1, NULL) == 0)
        serve_tls(room, c);
}

/* Room thread: c's wait is over (its event came). */
static void on_ready(waiting_room *room, room_conn *c)
{
    dl_remove(&c->timer);
    room->parked--;
    if (c->phase == ROOM_DRAINING)
        drain(room, c);
    else if (c->phase == ROOM_WRITE)
        write_plain(room, c);
    else
        hand_back(room, c);
}

/* Room thread: starts waiting for c's events until its phase's deadline. */
static void hold(waiting_room *room, room_conn *c)
{
    struct epoll_event ev = {.events = c->events | EPOLLONESHOT, .data.ptr = c};
    if (epoll_ctl(room->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->conn.fd, &ev) < 0) {
        log_warn("waiting room: epoll_ctl: %s", strerror(errno));
        if (c->phase == ROOM_DRAINING)
            conn_close(room, c); /* greeted already */
        else
            conn_failed(room, c);
        return;
    }
    c->in_epoll = 1;
    dl_insert_sorted(&room->timers, &c->timer, c->deadline_ns);
    room->parked++;
}

/* Room thread: starts holding what workers parked. */
static void take_inbox(waiting_room *room)
{
    eventfd_t ignored;
    (void)eventfd_read(room->wake_fd, &ignored); /* before taking: a later park wakes us again */
    pthread_mutex_lock(&room->lock);
    room_conn *c = room->inbox;
    room->inbox = room->inbox_tail = NULL;
    pthread_mutex_unlock(&room->lock);
    while (c != NULL) {
        room_conn *next = c->next_in_inbox;
        hold(room, c);
        c = next;
    }
}

/* Room thread: gives up on the connections whose deadline has passed. */
static void expire(waiting_room *room)
{
    uint64_t now = clock_now_ns();
    room_conn *c;
    while ((c = DL_FIRST(&room->timers, room_conn, timer)) && c->timer.deadline_ns <= now) { // NOLINT(clang-analyzer-unix.Malloc): conn_close unlinks c first
        dl_remove(&c->timer);
        room->parked--;
        if (c->phase == ROOM_DRAINING) {
            conn_close(room, c); /* greeted already: stop waiting for its EOF */
        } else if (c->phase == ROOM_HANDSHAKE) {
            conn_tls_failed(room, c, "TLS handshake: timed out");
        } else {
            conn_failed(room, c);
        }
    }
}

static int next_timeout_ms(const waiting_room *room)
{
    if (room->timers.head == NULL)
        return -1;
    uint64_t next = room->timers.head->deadline_ns, now = clock_now_ns();
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* Room thread: done once a stop was asked, the inbox is empty and nothing is parked. */
static int finished(waiting_room *room)
{
    pthread_mutex_lock(&room->lock);
    int done = room->stopping && room->inbox == NULL && room->parked == 0;
    pthread_mutex_unlock(&room->lock);
    return done;
}

static void *room_main(void *arg)
{
    waiting_room *room = arg;
    struct epoll_event events[MAX_EVENTS];
    while (!finished(room)) {
        int n = epoll_wait(room->epfd, events, MAX_EVENTS, next_timeout_ms(room));
        if (n < 0 && errno != EINTR) {
            log_error("waiting room: epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &wake_tag)
                take_inbox(room);
            else
                on_ready(room, events[i].data.ptr);
        }
        expire(room);
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
    room->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_tag};
    if (room->epfd < 0 || room->wake_fd < 0 ||
        epoll_ctl(room->epfd, EPOLL_CTL_ADD, room->wake_fd, &ev) < 0) {
        snprintf(err, errlen, "waiting room: %s", strerror(errno));
        goto out_free;
    }
    int rc = shutdown_thread_create(&room->thread, NULL, room_main, room);
    if (rc != 0) {
        snprintf(err, errlen, "waiting room: start thread: %s", strerror(rc));
        goto out_free;
    }
    return room;
out_free:
    if (room->epfd >= 0)
        close(room->epfd);
    if (room->wake_fd >= 0)
        close(room->wake_fd);
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
    close(room->wake_fd);
    pthread_mutex_destroy(&room->lock);
    free(room);
}
