/* handler.c -- what the server does with one connection: greet it (or turn it away) and close. */
#include "handler.h"

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "net.h"

#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void handler_log_peer(const conn_item *conn)
{
    char peer[ADDR_STRLEN], line[ADDR_STRLEN + 32];
    addr_format_tutorial((const struct sockaddr *)&conn->peer, conn->peer_len, peer, sizeof(peer));
    int n = snprintf(line, sizeof(line), "Got connection from %s\n", peer);
    /* One write per line keeps lines from concurrent workers whole. */
    log_access_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* conn's peer as HOST:PORT, or "-" for an unnamed UNIX socket client: accept gives those an
 * address of the family alone (or none), which formats as nothing and would leave a log line
 * one field short. */
static void format_peer(const conn_item *conn, char *peer, size_t len)
{
    peer[0] = '\0';
    if (conn->peer_len > 0)
        addr_format_hostport((const struct sockaddr *)&conn->peer, conn->peer_len, peer, len);
    if (peer[0] == '\0')
        snprintf(peer, len, "-");
}

void handler_log_done(const handler_config *cfg, const conn_item *conn, const char *outcome)
{
    if (cfg->access_log != ACCESS_LOG_FULL)
        return;
    char when[40], peer[ADDR_STRLEN], line[ADDR_STRLEN + 128];
    log_format_time(when, sizeof(when));
    format_peer(conn, peer, sizeof(peer));
    uint64_t took_us = conn->accepted_ns ? (clock_now_ns() - conn->accepted_ns) / 1000u : 0;
    int n = snprintf(line, sizeof(line), "%s %s %s %lluus\n", when, peer, outcome,
                     (unsigned long long)took_us);
    log_access_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

reload_gen *handler_view(const handler_config *cfg, handler_config *view)
{
    *view = *cfg;
    if (cfg->live == NULL)
        return NULL;
    reload_gen *gen = reload_acquire(cfg->live);
    view->greeting = gen->greeting;
    view->greeting_len = gen->greeting_len;
    if (cfg->tls)
        view->tls = gen->tls;
    return gen;
}

void handler_do_work(const handler_config *cfg)
{
    if (cfg->work_us == 0)
        return;
    if (cfg->work == WORK_SLEEP) {
        struct timespec ts = {cfg->work_us / 1000000, (long)(cfg->work_us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0) {
        }
        return;
    }
    uint64_t until = clock_now_ns() + (uint64_t)cfg->work_us * 1000u;
    volatile uint64_t sink = 0;
    while (clock_now_ns() < until)
        for (int i = 0; i < 64; i++)
            sink += (uint64_t)i;
    (void)sink; /* volatile: the loop is the work; the sum itself is never wanted */
}

static uint64_t deadline_after(int timeout_ms)
{
    return timeout_ms > 0 ? clock_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
}

/* The TLS path: handshake (bounded), greeting, close_notify, then the same careful close. */
static const char *serve_tls(const handler_config *cfg, const conn_item *conn, server_stats *stats)
{
    char err[TLS_ERRLEN];
    tls_conn *tls = tls_conn_new(cfg->tls, conn->fd, NULL, err, sizeof(err));
    if (tls != NULL) /* the ticket, greeting and close_notify: one segment, with the FIN */
        tls_hold_sends(tls);
    if (tls == NULL || tls_handshake_until(tls, deadline_after(cfg->io_timeout_ms), err, sizeof(err)) < 0) {
        handler_tls_failed(conn, err, stats);
        tls_conn_free(tls);
        close(conn->fd);
        server_stats_observe_duration(stats, conn->accepted_ns);
        return "tls_failed";
    }
    handler_do_work(cfg);
    uint64_t deadline = deadline_after(cfg->io_timeout_ms);
    int ok = tls_write_all_until(tls, cfg->greeting, cfg->greeting_len, deadline, NULL, err,
                                 sizeof(err)) == 0 &&
             tls_shutdown_until(tls, deadline, err, sizeof(err)) == 0;
    if (ok) {
        /* The client answers our close_notify with its own: wait for it, or a reset would
         * greet it, and a client that then fails its own shutdown loses its session for
         * resumption. Not for the EOF that trails it: that wait cost a wake-up more. */
        shutdown(conn->fd, SHUT_WR);
        server_stats_observe_duration(stats, conn->accepted_ns); /* the server's part */
        (void)tls_await_close_notify_until(tls, deadline_after(cfg->io_timeout_ms), NULL, 0);
        server_stats_add(&stats->greeted, 1);
    } else {
        server_stats_add(&stats->failed, 1);
        server_stats_observe_duration(stats, conn->accepted_ns);
    }
    tls_conn_free(tls);
    close(conn->fd);
    return ok ? "greeted" : "failed";
}

static const char *serve_plain(const handler_config *cfg, const conn_item *conn, server_stats *stats)
{
    handler_do_work(cfg);
    net_io_result rc = net_write_all(conn->fd, cfg->greeting, cfg->greeting_len,
                                     deadline_after(cfg->io_timeout_ms), NULL);
    server_stats_observe_duration(stats, conn->accepted_ns); /* the server's part */
    if (rc == NET_IO_DONE) {
        net_close_graceful(conn->fd, cfg->io_timeout_ms, HANDLER_DRAIN_LIMIT);
        server_stats_add(&stats->greeted, 1);
        return "greeted";
    }
    close(conn->fd);
    server_stats_add(&stats->failed, 1);
    return "failed";
}

void handler_serve(const handler_config *cfg, const conn_item *conn, server_stats *stats)
{
    handler_config view;
    reload_gen *gen = handler_view(cfg, &view);
    /* Whoever serves one connection at a time (thread, process) is a busy worker meanwhile. */
    server_stats_add(&stats->busy, 1);
    if (cfg->access_log == ACCESS_LOG_TUTORIAL)
        handler_log_peer(conn);
    const char *outcome = cfg->tls ? serve_tls(&view, conn, stats) : serve_plain(&view, conn, stats);
    if (gen)
        reload_release(gen);
    handler_log_done(cfg, conn, outcome);
    if (cfg->admission)
        admission_release(cfg->admission, (const struct sockaddr *)&conn->peer);
    server_stats_sub(&stats->busy, 1);
}

void handler_tls_failed(const conn_item *conn, const char *why, server_stats *stats)
{
    char peer[ADDR_STRLEN];
    addr_format_tutorial((const struct sockaddr *)&conn->peer, conn->peer_len, peer, sizeof(peer));
    log_info("TLS handshake with %s failed: %s", peer, why);
    server_stats_add(&stats->tls_failed, 1);
    server_stats_add(&stats->failed, 1);
}

void handler_reject(const handler_config *cfg, int fd, server_stats *stats)
{
    if (cfg->busy_message_len > 0) {
        /* Whoever rejects is usually the accept thread: never wait on this peer. */
        net_write_all(fd, cfg->busy_message, cfg->busy_message_len, clock_now_ns(), NULL);
        net_close_graceful(fd, 0, HANDLER_DRAIN_LIMIT);
    } else {
        close(fd);
    }
    server_stats_add(&stats->rejected, 1);
}

void handler_turn_away(const handler_config *cfg, const conn_item *conn, server_stats *stats)
{
    handler_reject(cfg, conn->fd, stats);
    proxy_in_discard(conn); /* what it had sent of its PROXY header, if it had not all */
    if (cfg->admission && !conn->proxy_pending) /* one still without its PROXY header was never admitted */
        admission_release(cfg->admission, (const struct sockaddr *)&conn->peer);
}

void handler_proxy_failed(const handler_config *h, const conn_item *conn, const char *why,
                          server_stats *stats)
{
    char peer[ADDR_STRLEN];
    format_peer(conn, peer, sizeof(peer));
    log_info("connection from %s: %s: closed unanswered", peer, why);
    close(conn->fd);
    proxy_in_discard(conn);
    server_stats_add(&stats->failed, 1);
    server_stats_add(&stats->proxy_failed, 1);
    server_stats_observe_duration(stats, conn->accepted_ns);
    handler_log_done(h, conn, "proxy_failed");
}
