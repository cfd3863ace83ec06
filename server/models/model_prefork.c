/* model_prefork.c -- N processes, each running the iterative loop on the shared listener; dead ones are replaced. */
#include "acceptor.h"
#include "children.h"
#include "log.h"
#include "server.h"
#include "shutdown.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The parent's check on its children, between waits for a stop: restarts, replacements after
 * a reload, and the children's counts folded into the server's, so live readers (metrics) lag
 * the children by at most this (a fold costs a pass over the slots' small blocks). */
#define SUPERVISE_INTERVAL_MS 10

/*
 * The parent's view. A child serves the reload generation that was current when it was
 * forked (its copy of the parent's memory): after a SIGHUP the control thread makes a new
 * generation current, and the parent replaces every child of an older one. Its replacement
 * starts at once in a spare slot, while the old child finishes the client it holds and exits
 * (a stop signal); so there are up to twice -w slots when the settings can be reloaded.
 */
typedef struct prefork {
    server *srv;
    children *kids;
    int workers;
    int slots;
    reload_state *live;     /* NULL: nothing to reload */
    const reload_gen **gen; /* per slot: the generation its child serves (NULL without live) */
    bool *retiring;         /* per slot: its child was asked to finish and exit */
    int short_of_slots;     /* top_up found every spare slot held by retiring children */
    const reload_gen *forking_gen; /* the generation of the child being forked */
} prefork;

/* A child's whole life: the iterative model on the shared listener, counting into its slot,
 * until asked to stop. */
static void child_main(const server *srv, server_stats *counters)
{
    server mine = *srv;
    char err[256];
    mine.stats = counters;
    _exit(model_iterative_run(&mine, err, sizeof(err)) == 0 ? 0 : 1);
}

static void retire_children_not_of(prefork *p, const reload_gen *current);

/* children_fork's prepare: children of another generation than the one the new child will
 * serve are asked to stop before it starts, with no reload able to slip in between, so a
 * client that meets the new settings meets no old ones after it. (A fork takes tens of
 * milliseconds under load; a reload during a round of forks, at start or replacing children,
 * left the round's first children serving the old greeting after later ones had served the
 * new, until the parent's next turn.) */
static void before_fork(void *arg, const reload_gen *serves)
{
    prefork *p = arg;
    retire_children_not_of(p, serves);
    p->forking_gen = serves;
}

/* Starts one child with the current generation; 0, or -1 with errno in the parent. */
static int start_child(prefork *p)
{
    int slot;
    server_stats *counters;
    pid_t pid = children_fork(p->kids, 0, &slot, &counters, before_fork, p);
    if (pid == 0)
        child_main(p->srv, counters);
    if (pid < 0)
        return -1;
    p->gen[slot] = p->forking_gen;
    p->retiring[slot] = false;
    return 0;
}

/* Children serving the current generation (not retiring). A NULL generation is not a
 * retiring child: without reloadable settings every child's generation is NULL. */
static int current_children(const prefork *p)
{
    int n = 0;
    for (int i = 0; i < p->slots; i++)
        n += children_pid(p->kids, i) != 0 && !p->retiring[i];
    return n;
}

/* After a reload: asks each child of an older generation to finish its client and exit. The
 * stop is pending in it once kill returns, and its accept loop checks for one before every
 * accept, so almost no connection that comes after this takes an old child (only one that
 * arrives while an old child is between that check and its accept). */
static void retire_old_children(prefork *p)
{
    if (p->live != NULL)
        retire_children_not_of(p, atomic_load(&p->live->current));
}

/* Asks each child that does not serve current to finish its client and exit. */
static void retire_children_not_of(prefork *p, const reload_gen *current)
{
    if (p->live == NULL)
        return;
    int retired = 0;
    for (int i = 0; i < p->slots; i++) {
        pid_t pid = children_pid(p->kids, i);
        if (pid != 0 && !p->retiring[i] && p->gen[i] != current) {
            kill(pid, SIGTERM);
            p->retiring[i] = true;
            retired++;
        }
    }
    if (retired > 0)
        log_info("prefork: replacing %d child%s with the reloaded settings (each finishes the "
                 "client it holds first)", retired, retired == 1 ? "" : "ren");
}

/* Starts children until -w serve the current generation. */
static void top_up(prefork *p)
{
    for (int running = current_children(p); running < p->workers; running++) {
        if (start_child(p) < 0) {
            /* EAGAIN: every slot is held by a retiring child, whose exit frees one (reloads
             * in quick succession while children are busy): said once, not every turn. */
            if (errno != EAGAIN)
                log_warn("prefork: fork: %s: %d of %d children running", strerror(errno),
                         running, p->workers);
            else if (!p->short_of_slots)
                log_warn("prefork: %d of %d children serve the new settings until retiring "
                         "ones finish their clients (all %d slots taken)", running, p->workers,
                         p->slots);
            p->short_of_slots = errno == EAGAIN;
            return;
        }
    }
    p->short_of_slots = 0;
}

/* Asks every child to finish the client it holds and exit, and reaps them all. */
static void stop_children(children *kids)
{
    children_signal(kids, SIGTERM);
    while (children_alive(kids) > 0)
        children_reap(kids, 1, NULL, NULL);
}

/* The table and the first -w children; 0, or -1 with err (nothing left running). */
static int prefork_start(prefork *p, char *err, size_t errlen)
{
    p->slots = p->live ? 2 * p->workers : p->workers;
    p->gen = calloc((size_t)p->slots, sizeof(const reload_gen *));
    p->retiring = calloc((size_t)p->slots, sizeof(bool));
    p->kids = p->gen && p->retiring ? children_create(p->slots, p->srv->stats, p->live, "prefork child",
                                       ": starting another", err, errlen)
                     : NULL;
    if (p->kids == NULL) {
        if (p->gen == NULL || p->retiring == NULL)
            snprintf(err, errlen, "prefork: out of memory for %d children", p->slots);
        free(p->gen);
        free(p->retiring);
        return -1;
    }
    for (int i = 0; i < p->workers; i++) {
        if (start_child(p) < 0) {
            snprintf(err, errlen, "prefork: fork child %d of %d: %s", i + 1, p->workers, strerror(errno));
            stop_children(p->kids);
            children_destroy(p->kids);
            free(p->gen);
            free(p->retiring);
            return -1;
        }
    }
    return 0;
}

int model_prefork_run(server *srv, char *err, size_t errlen)
{
    prefork p = {.srv = srv, .workers = srv->cfg->workers, .live = srv->cfg->handler.live};
    if (prefork_start(&p, err, errlen) < 0)
        return -1;
    while (!shutdown_requested()) {
        struct pollfd stop = {shutdown_fd(), POLLIN, 0};
        poll(&stop, 1, SUPERVISE_INTERVAL_MS);
        children_fold(p.kids);
        if (shutdown_requested())
            break;
        /* Children that died before a stop was asked are replaced (the reap logged why). */
        children_reap(p.kids, 0, NULL, NULL);
        retire_old_children(&p);
        top_up(&p);
    }
    /* The children take the clients already queued, then close their copies of the
     * listener; ours must not keep it open after theirs. */
    acceptor parent_copy;
    acceptor_init(&parent_copy, srv->listen_fd, &srv->cfg->handler, srv->stats);
    acceptor_retire(&parent_copy);
    acceptor_destroy(&parent_copy);
    stop_children(p.kids);
    children_destroy(p.kids);
    free(p.gen);
    free(p.retiring);
    return 0;
}
