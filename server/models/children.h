/* children.h -- the processes of the fork and prefork models: they die with their parent, and the summary adds up whatever happens to them. */
#ifndef GREETER_CHILDREN_H
#define GREETER_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

#include "reload.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A table of child processes. Each child counts into a block of shared memory of its own (its
 * slot), never into the server's counters; the parent folds the slots into the server's
 * counters, so a child killed at any instruction cannot leave a count half made: what it
 * accepted (or was handed) without an outcome is counted failed when it is reaped.
 * Used by the parent's one thread only.
 */
typedef struct children children;

/* Room for `slots` children at once, folding into stats (not owned). Forks wait for a reload
 * of live (not owned; NULL: none) to end, see reload_fork_begin. A child's death is logged
 * as "<name> 123 died of signal 9<then>", e.g. name "prefork child", then ": starting another"
 * (static strings). NULL with err. */
children *children_create(int slots, server_stats *stats, reload_state *live, const char *name,
                          const char *then, char *err, size_t errlen);

/* Frees the table (reap the children first). NULL is fine. */
void children_destroy(children *ch);

/*
 * Forks a child into a free slot. `held` is how many connections the parent counted accepted
 * and hands to the child (fork: 1, prefork: 0). In the child: returns 0 with *counters set to
 * the slot's block, after shutdown_reset_after_fork and with SIGKILL set to come when the
 * parent dies (a parent already gone ends it at once), so no orphan serves on. In the parent:
 * the child's pid with *slot set, or -1 with errno (EAGAIN: every slot is taken). prepare
 * (NULL: none) runs first, see children_prepare_fn.
 */
/* Called in the parent just before the fork, with no reload able to take effect until the
 * fork is done, with the generation the child will serve (NULL when nothing reloads). */
typedef void (*children_prepare_fn)(void *arg, const reload_gen *serves);

pid_t children_fork(children *ch, int held, int *slot, server_stats **counters,
                    children_prepare_fn prepare, void *prepare_arg);

/* Adds what live children counted since the last fold to the server's counters, so live
 * readers see them; the last reap makes the counts exact. */
void children_fold(children *ch);

/*
 * Reaps children that exited (with block, waits for one first unless none is alive). Each
 * one's counts are folded in, and the connections it held without an outcome are counted as
 * failed and logged; on_lost(arg, slot) (may be NULL) is then called for such a child.
 * Deaths by signal and non-zero exits are logged. Returns how many children were reaped.
 */
int children_reap(children *ch, int block, void (*on_lost)(void *arg, int slot), void *arg);

/* Children forked and not yet reaped. */
int children_alive(const children *ch);

/* The child in slot (0 <= slot < slots), or 0 when the slot is free. */
pid_t children_pid(const children *ch, int slot);

/* Sends sig to every child not yet reaped. */
void children_signal(const children *ch, int sig);

#ifdef __cplusplus
}
#endif
#endif
