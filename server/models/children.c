/* children.c -- the processes of the fork and prefork models: they die with their parent, and the summary adds up whatever happens to them. */
#include "children.h"

#include "log.h"
#include "shutdown.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals the server handles: held back in a new child until it has its own handling. */
static const int STOP_SIGNALS[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, 0};

struct children {
    server_stats *stats;    /* the server's: slots are folded into it */
    reload_state *live;     /* no fork while it reloads; NULL: nothing reloads */
    server_stats *slots;    /* MAP_SHARED, one block per slot: each child counts in its own */
    server_stats *seen;     /* private: what has been folded of each slot so far */
    pid_t *pids;            /* per slot; 0: free */
    int *held;              /* per slot: connections handed to the child by the parent */
    int count, alive, next; /* next: where the search for a free slot starts */
    const char *name, *then; /* for the log line of a death */
};

children *children_create(int slots, server_stats *stats, reload_state *live, const char *name,
                          const char *then, char *err, size_t errlen)
{
    children *ch = calloc(1, sizeof(*ch));
    size_t bytes = (size_t)slots * sizeof(server_stats);
    if (ch == NULL)
        goto out_nomem;
    ch->stats = stats;
    ch->live = live;
    ch->count = slots;
    ch->name = name;
    ch->then = then;
    ch->slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ch->slots == MAP_FAILED) {
        snprintf(err, errlen, "counters for %d children: %s", slots, strerror(errno));
        ch->slots = NULL;
        children_destroy(ch);
        return NULL;
    }
    ch->seen = calloc((size_t)slots, sizeof(*ch->seen));
    ch->pids = calloc((size_t)slots, sizeof(*ch->pids));
    ch->held = calloc((size_t)slots, sizeof(*ch->held));
    if (ch->seen && ch->pids && ch->held)
        return ch;
    children_destroy(ch);
out_nomem:
    snprintf(err, errlen, "out of memory for %d children", slots);
    return NULL;
}

void children_destroy(children *ch)
{
    if (ch == NULL)
        return;
    if (ch->slots)
        munmap(ch->slots, (size_t)ch->count * sizeof(server_stats));
    free(ch->seen);
    free(ch->pids);
    free(ch->held);
    free(ch);
}

static int free_slot(children *ch)
{
    for (int i = 0; i < ch->count; i++) {
        int slot = (ch->next + i) % ch->count;
        if (ch->pids[slot] == 0) {
            ch->next = (slot + 1) % ch->count;
            return slot;
        }
    }
    return -1;
}

/* In a new child: SIGKILL when the parent dies, so no orphan adopted by init serves the port
 * uncounted; a parent that died before prctl took effect is caught by the check after it. */
static void die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(1);
}

pid_t children_fork(children *ch, int held, int *slot, server_stats **counters,
                    children_prepare_fn prepare, void *prepare_arg)
{
    int s = free_slot(ch);
    if (s < 0) {
        errno = EAGAIN;
        return -1;
    }
    /* A stop signal that reaches the child before shutdown_reset_after_fork must wait for
     * the child's own signalfd, or the parent would wait forever for a child that never
     * heard it: the stop signals stay blocked (pending) across the fork. */
    sigset_t block, saved;
    sigemptyset(&block);
    for (const int *sig = STOP_SIGNALS; *sig; sig++)
        sigaddset(&block, *sig);
    pthread_sigmask(SIG_BLOCK, &block, &saved);
    pid_t parent = getpid();
    reload_fork_begin(ch->live);
    if (prepare)
        prepare(prepare_arg, ch->live ? atomic_load(&ch->live->current) : NULL);
    pid_t pid = fork();
    if (pid == 0) {
        die_with_parent(parent);
        shutdown_reset_after_fork();
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        *counters = &ch->slots[s];
        return 0;
    }
    int saved_errno = errno;
    reload_fork_end(ch->live);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    errno = saved_errno;
    if (pid < 0)
        return -1;
    ch->pids[s] = pid;
    ch->held[s] = held;
    ch->alive++;
    *slot = s;
    return pid;
}

void children_fold(children *ch)
{
    for (int i = 0; i < ch->count; i++)
        if (ch->pids[i] != 0)
            server_stats_fold(ch->stats, &ch->slots[i], &ch->seen[i]);
}

/* A child has been reaped: takes in its last counts, counts what it left unfinished as failed,
 * and frees the slot. Returns the connections it lost. */
static uint64_t retire(children *ch, int slot, int status)
{
    server_stats *mine = &ch->slots[slot];
    server_stats_fold(ch->stats, mine, &ch->seen[slot]);
    uint64_t handed = (uint64_t)ch->held[slot] + server_stats_get(&mine->accepted);
    uint64_t done = server_stats_outcomes(mine);
    uint64_t lost = handed > done ? handed - done : 0;
    server_stats_add(&ch->stats->failed, lost);
    /* A child killed while serving left its busy gauge raised: it serves no more. */
    server_stats_sub(&ch->stats->busy, server_stats_get(&mine->busy));
    char how[64];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof(how), "died of signal %d", WTERMSIG(status));
    else
        snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
    if (lost > 0)
        log_warn("%s %d %s%s (%llu connection%s it held counted as failed)", ch->name,
                 (int)ch->pids[slot], how, ch->then, (unsigned long long)lost, lost == 1 ? "" : "s");
    else if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)
        log_warn("%s %d %s%s", ch->name, (int)ch->pids[slot], how, ch->then);
    memset(mine, 0, sizeof(*mine));
    memset(&ch->seen[slot], 0, sizeof(ch->seen[slot]));
    ch->pids[slot] = 0;
    ch->alive--;
    return lost;
}

static int slot_of(const children *ch, pid_t pid)
{
    for (int i = 0; i < ch->count; i++)
        if (ch->pids[i] == pid)
            return i;
    return -1;
}

int children_reap(children *ch, int block, void (*on_lost)(void *arg, int slot), void *arg)
{
    int reaped = 0, status;
    pid_t pid;
    while (ch->alive > 0 && (pid = waitpid(-1, &status, block ? 0 : WNOHANG)) != 0) {
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int slot = slot_of(ch, pid);
        if (slot < 0)
            continue; /* not one of ours (a helper the process ran): nothing to count */
        block = 0;
        reaped++;
        if (retire(ch, slot, status) > 0 && on_lost)
            on_lost(arg, slot);
    }
    return reaped;
}

int children_alive(const children *ch) { return ch->alive; }

pid_t children_pid(const children *ch, int slot) { return ch->pids[slot]; }

void children_signal(const children *ch, int sig)
{
    for (int i = 0; i < ch->count; i++)
        if (ch->pids[i] != 0)
            kill(ch->pids[i], sig);
}
