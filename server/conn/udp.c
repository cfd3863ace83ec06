/* udp.c -- the greeting over datagrams: each datagram received is answered with the greeting. */
#include "udp.h"

#include "clock.h"

#include "addr.h"
#include "amplification.h"
#include "log.h"
#include "loop_listeners.h"
#include "net.h"
#include "shutdown.h"
#include "thread_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct udp_worker {
    server *srv;
    int threads;
    int *fds; /* the sockets it serves (loop_listeners_deal), set by udp_worker_prepare */
    int count;
    int shared; /* fds are shared with the other workers */
    char error[160]; /* set when the worker could not start serving */
} udp_worker;

/* Answers one datagram of size len from peer on fd. */
static void answer(server *srv, int fd, size_t len, int truncated, const conn_item *peer)
{
    const server_config *cfg = srv->cfg;
    server_stats *stats = srv->stats;
    server_stats_add(&stats->accepted, 1);
    if (cfg->handler.admission &&
        !admission_allowed(cfg->handler.admission, (const struct sockaddr *)&peer->peer)) {
        server_stats_add(&stats->denied, 1);
        return;
    }
    if (cfg->handler.admission &&
        !admission_rate_allow(cfg->handler.admission, (const struct sockaddr *)&peer->peer)) {
        server_stats_add(&stats->rejected, 1); /* over --rate-per-ip: dropped unanswered */
        server_stats_add(&stats->rate_limited, 1);
        return;
    }
    if (truncated || len > (size_t)cfg->udp_max) {
        server_stats_add(&stats->rejected, 1); /* oversized: dropped, never amplified */
        return;
    }
    handler_config view;
    reload_gen *gen = handler_view(&cfg->handler, &view);
    if (!amplification_reply_allowed(cfg->udp_amplification, len, view.greeting_len)) {
        if (gen)
            reload_release(gen);
        server_stats_add(&stats->rejected, 1);
        server_stats_add(&stats->too_small, 1);
        return;
    }
    if (cfg->handler.access_log == ACCESS_LOG_TUTORIAL)
        handler_log_peer(peer);
    handler_do_work(&cfg->handler);
    ssize_t sent = sendto(fd, view.greeting, view.greeting_len, MSG_NOSIGNAL,
                          (const struct sockaddr *)&peer->peer, peer->peer_len);
    if (gen)
        reload_release(gen);
    int ok = sent == (ssize_t)view.greeting_len;
    server_stats_add(ok ? &stats->greeted : &stats->failed, 1);
    handler_log_done(&cfg->handler, peer, ok ? "greeted" : "failed");
}

int udp_answer_one(server *srv, int fd, char *buf, size_t cap)
{
    conn_item peer;
    peer.peer_len = sizeof(peer.peer);
    peer.accepted_ns = clock_now_ns();
    ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&peer.peer,
                         &peer.peer_len);
    if (n < 0)
        return 0; /* EAGAIN: another worker took it, or nothing left */
    answer(srv, fd, (size_t)n, (size_t)n >= cap, &peer);
    return 1;
}

/* An epoll set of the worker's socket and the shutdown pipe. On a socket that all workers
 * share, EPOLLEXCLUSIVE wakes one of them per datagram rather than all: with poll() every
 * idle worker woke, and all but one found nothing to read. -1 with err on failure. */
static int open_wait_set(const udp_worker *w, char *err, size_t errlen)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        snprintf(err, errlen, "udp worker: epoll_create1: %s", strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int k = 0; k < w->count && rc == 0; k++) {
        struct epoll_event sock = {.events = EPOLLIN | (w->shared ? EPOLLEXCLUSIVE : 0),
                                   .data.fd = w->fds[k]};
        rc = epoll_ctl(ep, EPOLL_CTL_ADD, w->fds[k], &sock);
        if (rc < 0 && errno == EINVAL && w->shared) { /* before Linux 4.5: plain wake-ups */
            sock.events = EPOLLIN;
            rc = epoll_ctl(ep, EPOLL_CTL_ADD, w->fds[k], &sock);
        }
    }
    struct epoll_event stop = {.events = EPOLLIN, .data.fd = shutdown_fd()};
    if (rc < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, shutdown_fd(), &stop) < 0) {
        snprintf(err, errlen, "udp worker: epoll_ctl: %s", strerror(errno));
        close(ep);
        return -1;
    }
    return ep;
}

static void *udp_worker_main(void *arg)
{
    udp_worker *w = arg;
    /* One byte more than the largest request we answer tells an oversized one apart. */
    size_t cap = (size_t)w->srv->cfg->udp_max + 1;
    char *buf = malloc(cap);
    int ep = buf != NULL ? open_wait_set(w, w->error, sizeof(w->error)) : -1;
    if (buf == NULL || ep < 0) {
        if (buf == NULL)
            snprintf(w->error, sizeof(w->error), "udp worker: out of memory");
        free(buf);
        shutdown_request(); /* a server short of a worker stops; udp_serve reports why */
        return NULL;
    }
    struct epoll_event ev[8];
    while (!shutdown_requested()) {
        int n = epoll_wait(ep, ev, 8, -1);
        if (n < 0 && errno != EINTR)
            break;
        server_stats_add(&w->srv->stats->busy, 1); /* a busy worker until its sockets are empty */
        /* Stops between datagrams once asked to: in an upgrade the successor serves the
         * same sockets, and takes what is left in them. */
        for (int i = 0; i < n; i++)
            while (ev[i].data.fd != shutdown_fd() && !shutdown_requested() &&
                   udp_answer_one(w->srv, ev[i].data.fd, buf, cap)) {
            }
        server_stats_sub(&w->srv->stats->busy, 1);
    }
    close(ep);
    free(buf);
    return NULL;
}

/* The sockets worker `index` serves: the server's, or with the event model's loop sockets
 * (loop_listeners.h) a share of them all, so that none goes unserved. */
static int udp_worker_prepare(void *item, int index, char *err, size_t errlen)
{
    udp_worker *w = item;
    const server *srv = w->srv;
    w->fds = calloc((size_t)(1 + srv->loop_count) / (size_t)w->threads + 1, sizeof(*w->fds));
    if (w->fds == NULL) {
        snprintf(err, errlen, "udp worker %d: out of memory", index);
        return -1;
    }
    w->count = loop_listeners_deal(srv->listen_fd, srv->loop_fds, srv->loop_count, index,
                                   w->threads, w->fds, &w->shared);
    w->shared = w->shared && w->threads > 1;
    return 0;
}

static void udp_worker_release(void *item)
{
    udp_worker *w = item;
    free(w->fds);
    w->fds = NULL;
}

int udp_serve(server *srv, int threads, char *err, size_t errlen)
{
    udp_worker *workers = calloc((size_t)threads, sizeof(*workers));
    if (workers == NULL) {
        snprintf(err, errlen, "udp: out of memory for %d workers", threads);
        return -1;
    }
    for (int i = 0; i < threads; i++) {
        workers[i].srv = srv;
        workers[i].threads = threads;
    }
    static const thread_set_ops ops = {udp_worker_prepare, udp_worker_main, udp_worker_release};
    int rc = thread_set_run("udp", workers, sizeof(*workers), threads, &ops, err, errlen);
    for (int i = 0; i < threads && rc == 0; i++) {
        if (workers[i].error[0]) { /* a worker that could not start serving stopped the rest */
            snprintf(err, errlen, "%s", workers[i].error);
            rc = -1;
        }
    }
    free(workers);
    return rc;
}
