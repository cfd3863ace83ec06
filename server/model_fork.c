/* model_fork.c -- a child process per accepted connection, reaped without blocking the accept loop. */
#include "acceptor.h"
#include "log.h"
#include "server.h"
#include "shutdown.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often an idle accept loop looks for exited children, so none stays a zombie for long. */
#define REAP_INTERVAL_MS 100

typedef struct fork_state {
    server *srv;
    int children; /* alive and not yet reaped */
} fork_state;

/* Reaps every exited child; with block set, waits for at least one first. */
static void reap(fork_state *st, int block)
{
    int status;
    pid_t pid;
    while (st->children > 0 && (pid = waitpid(-1, &status, block ? 0 : WNOHANG)) != 0) {
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        st->children--;
        block = 0;
        if (WIFSIGNALED(status))
            log_warn("child %d died of signal %d while greeting", (int)pid, WTERMSIG(status));
    }
}

static int reap_idle(void *arg)
{
    reap(arg, 0);
    return ((fork_state *)arg)->children > 0 ? REAP_INTERVAL_MS : -1;
}

/* In the child: greet and leave. _exit skips the parent's atexit work and stdio buffers. */
static void serve_in_child(fork_state *st, const conn_item *conn)
{
    shutdown_reset_after_fork();
    close(st->srv->listen_fd);
    handler_serve(&st->srv->cfg->handler, conn, st->srv->stats);
    _exit(0);
}

static void spawn(fork_state *st, const conn_item *conn)
{
    pid_t pid = fork();
    if (pid == 0)
        serve_in_child(st, conn);
    if (pid < 0) {
        /* No process to greet it: greet it here rather than drop it. */
        log_warn("fork: %s: greeting in the parent", strerror(errno));
        handler_serve(&st->srv->cfg->handler, conn, st->srv->stats);
        return;
    }
    st->children++;
    close(conn->fd);
}

int model_fork_run(server *srv, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fork_state st = {.srv = srv};
    const server_config *cfg = srv->cfg;
    acceptor acc;
    acceptor_init(&acc, srv->listen_fd, &cfg->handler, srv->stats);
    acc.on_idle = reap_idle;
    acc.idle_arg = &st;
    conn_item conn;
    while (acceptor_next(&acc, &conn)) {
        reap(&st, 0);
        if (st.children >= cfg->max_children) {
            if (cfg->overload == OVERLOAD_REJECT) {
                handler_reject(&cfg->handler, conn.fd, srv->stats);
                continue;
            }
            reap(&st, 1); /* the cap is reached: wait for a child to finish */
        }
        spawn(&st, &conn);
    }
    acceptor_destroy(&acc);
    while (st.children > 0)
        reap(&st, 1);
    return 0;
}
