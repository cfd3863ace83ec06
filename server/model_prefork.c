/* model_prefork.c -- N processes, each accepting on the shared listener; dead ones are replaced. */
#include "acceptor.h"
#include "log.h"
#include "server.h"
#include "shutdown.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The parent's check on its children, between waits for a stop. */
#define SUPERVISE_INTERVAL_MS 100

/* A child's whole life: the iterative loop on the shared listener until asked to stop. */
static void child_main(server *srv)
{
    shutdown_reset_after_fork();
    acceptor acc;
    conn_item conn;
    acceptor_init(&acc, srv->listen_fd, &srv->cfg->handler, srv->stats);
    while (acceptor_next(&acc, &conn))
        handler_serve(&srv->cfg->handler, &conn, srv->stats);
    acceptor_destroy(&acc);
    _exit(0);
}

static pid_t start_child(server *srv)
{
    pid_t pid = fork();
    if (pid == 0)
        child_main(srv);
    return pid;
}

/* Finds pid's slot, or -1. */
static int slot_of(const pid_t *pids, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (pids[i] == pid)
            return i;
    return -1;
}

/* Restarts children that died before a stop was asked. */
static void supervise(server *srv, pid_t *pids, int n)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int slot = slot_of(pids, n, pid);
        if (slot < 0)
            continue;
        if (WIFSIGNALED(status))
            log_warn("prefork child %d died of signal %d: starting another", (int)pid, WTERMSIG(status));
        else
            log_warn("prefork child %d exited with %d: starting another", (int)pid, WEXITSTATUS(status));
        pids[slot] = start_child(srv);
    }
}

int model_prefork_run(server *srv, char *err, size_t errlen)
{
    int n = srv->cfg->workers;
    pid_t *pids = calloc((size_t)n, sizeof(*pids));
    if (pids == NULL) {
        snprintf(err, errlen, "prefork: out of memory for %d children", n);
        return -1;
    }
    /* Children must see a non-blocking listener; acceptor_init sets it in each of them too. */
    for (int i = 0; i < n; i++) {
        pids[i] = start_child(srv);
        if (pids[i] < 0) {
            snprintf(err, errlen, "prefork: fork child %d of %d: %s", i + 1, n, strerror(errno));
            for (int j = 0; j < i; j++)
                kill(pids[j], SIGTERM);
            while (wait(NULL) > 0 || errno == EINTR) {
            }
            free(pids);
            return -1;
        }
    }
    while (!shutdown_requested()) {
        struct pollfd stop = {shutdown_fd(), POLLIN, 0};
        poll(&stop, 1, SUPERVISE_INTERVAL_MS);
        if (!shutdown_requested())
            supervise(srv, pids, n);
    }
    /* Each child finishes the client it holds, then exits. */
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    free(pids);
    return 0;
}
