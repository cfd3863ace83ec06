/* model_prefork.c -- N processes, each running the iterative loop on the shared listener; dead ones are replaced. */
#include "children.h"
#include "log.h"
#include "server.h"
#include "shutdown.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The parent's check on its children, between waits for a stop: restarts, and the children's
 * counts folded into the server's, so live readers (metrics) lag the children by at most this
 * (a fold costs a pass over -w small blocks). */
#define SUPERVISE_INTERVAL_MS 10

/* A child's whole life: the iterative model on the shared listener, counting into its slot,
 * until asked to stop. */
static void child_main(const server *srv, server_stats *counters)
{
    server mine = *srv;
    char err[256];
    mine.stats = counters;
    _exit(model_iterative_run(&mine, err, sizeof(err)) == 0 ? 0 : 1);
}

/* Starts one child; 0, or -1 with errno in the parent. */
static int start_child(const server *srv, children *kids)
{
    int slot;
    server_stats *counters;
    pid_t pid = children_fork(kids, 0, &slot, &counters);
    if (pid == 0)
        child_main(srv, counters);
    return pid < 0 ? -1 : 0;
}

/* Asks every child to finish the client it holds and exit, and reaps them all. */
static void stop_children(children *kids)
{
    children_signal(kids, SIGTERM);
    while (children_alive(kids) > 0)
        children_reap(kids, 1, NULL, NULL);
}

int model_prefork_run(server *srv, char *err, size_t errlen)
{
    int n = srv->cfg->workers;
    children *kids = children_create(n, srv->stats, "prefork child", ": starting another", err, errlen);
    if (kids == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if (start_child(srv, kids) < 0) {
            snprintf(err, errlen, "prefork: fork child %d of %d: %s", i + 1, n, strerror(errno));
            stop_children(kids);
            children_destroy(kids);
            return -1;
        }
    }
    while (!shutdown_requested()) {
        struct pollfd stop = {shutdown_fd(), POLLIN, 0};
        poll(&stop, 1, SUPERVISE_INTERVAL_MS);
        children_fold(kids);
        if (shutdown_requested())
            break;
        /* Children that died before a stop was asked are replaced (the reap logged why). */
        children_reap(kids, 0, NULL, NULL);
        while (children_alive(kids) < n && start_child(srv, kids) == 0) {
        }
        if (children_alive(kids) < n)
            log_warn("prefork: fork: %s: %d of %d children running", strerror(errno),
                     children_alive(kids), n);
    }
    stop_children(kids);
    children_destroy(kids);
    return 0;
}
