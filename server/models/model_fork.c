/* model_fork.c -- a child process per accepted connection, reaped without blocking the accept loop. */
#include "acceptor.h"
#include "children.h"
#include "clock.h"
#include "log.h"
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How often an idle accept loop looks for exited children, so none stays a zombie for long. */
#define REAP_INTERVAL_MS 100

typedef struct fork_state {
    server *srv;
    children *kids;
    conn_item *held; /* per child slot: the connection that child serves */
    uint64_t folded_ns; /* when the live children's counts were last folded in */
} fork_state;

/* A child died before it finished its connection, so before it released the connection's
 * place under the caps: release it here, or every such death would shrink --max-conns. */
static void release_lost(void *arg, int slot)
{
    fork_state *st = arg;
    admission *adm = st->srv->cfg->handler.admission;
    if (adm)
        admission_release(adm, (const struct sockaddr *)&st->held[slot].peer);
}

/* Reaps every exited child (with block set, waits for at least one first), and now and then
 * folds the live children's counts in, so live readers (metrics) see their busy gauge. */
static void reap(fork_state *st, int block)
{
    children_reap(st->kids, block, release_lost, st);
    uint64_t now = clock_now_ns();
    if (now - st->folded_ns >= (uint64_t)REAP_INTERVAL_MS * 1000000u) {
        children_fold(st->kids);
        st->folded_ns = now;
    }
}

static int reap_idle(void *arg)
{
    fork_state *st = arg;
    reap(st, 0);
    return children_alive(st->kids) > 0 ? REAP_INTERVAL_MS : -1;
}

static void spawn(fork_state *st, const conn_item *conn)
{
    int slot;
    server_stats *counters;
    pid_t pid = children_fork(st->kids, 1, &slot, &counters, NULL, NULL);
    if (pid == 0) {
        /* The child: greet and leave. _exit skips the parent's atexit work and stdio buffers. */
        close(st->srv->listen_fd);
        handler_serve(&st->srv->cfg->handler, conn, counters);
        _exit(0);
    }
    if (pid < 0) {
        /* No process to greet it: greet it here rather than drop it. */
        log_warn("fork: %s: greeting in the parent", strerror(errno));
        handler_serve(&st->srv->cfg->handler, conn, st->srv->stats);
        return;
    }
    st->held[slot] = *conn;
    close(conn->fd);
}

int model_fork_run(server *srv, char *err, size_t errlen)
{
    const server_config *cfg = srv->cfg;
    fork_state st = {.srv = srv};
    st.kids = children_create(cfg->max_children, srv->stats, cfg->handler.live, "child",
                              " while greeting", err, errlen);
    st.held = calloc((size_t)cfg->max_children, sizeof(*st.held));
    if (st.kids == NULL || st.held == NULL) {
        if (st.kids)
            snprintf(err, errlen, "fork: out of memory for %d children", cfg->max_children);
        children_destroy(st.kids);
        free(st.held);
        return -1;
    }
    acceptor acc;
    acceptor_init(&acc, srv->listen_fd, &cfg->handler, srv->stats);
    acc.on_idle = reap_idle;
    acc.idle_arg = &st;
    conn_item conn;
    while (acceptor_next(&acc, &conn)) {
        reap(&st, 0);
        if (children_alive(st.kids) >= cfg->max_children) {
            if (cfg->overload == OVERLOAD_REJECT) {
                handler_turn_away(&cfg->handler, &conn, srv->stats);
                continue;
            }
            reap(&st, 1); /* the cap is reached: wait for a child to finish */
        }
        spawn(&st, &conn);
    }
    acceptor_destroy(&acc);
    while (children_alive(st.kids) > 0)
        reap(&st, 1);
    children_destroy(st.kids);
    free(st.held);
    return 0;
}
