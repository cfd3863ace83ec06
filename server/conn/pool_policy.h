/* pool_policy.h -- the pool's hand-off policy, stated once: when to wake a worker, how much a worker takes, when the accept thread refills the queue or serves a connection itself. */
#ifndef GREETER_POOL_POLICY_H
#define GREETER_POOL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Wake-ups are the expensive part of a hand-off (a futex call and a context switch on each
 * side), so the queue wakes a sleeping worker only when it helps:
 *   - nobody is awake, or the awake workers have taken nothing for POOL_STALLED_AFTER_NS
 *     (they are stuck: a sudden block the service averages do not show yet). That is
 *     several scheduler time slices: on a busy machine a worker that is merely preempted
 *     must not look stuck. Each such wake-up adds a runnable thread, which makes the next
 *     preemption longer: at 5 ms, TLS handshakes beside a client on the same two CPUs woke
 *     all eight workers one by one (results/conn-cost-notes.md);
 *   - otherwise only while fewer are awake than can usefully run at once (for work that
 *     mostly waits, the CPUs times the ratio of an item's wall time to its CPU time; for work
 *     that computes, one per CPU: it gains nothing past that, and its wall time beyond its
 *     CPU time is preemption, which more workers would lengthen), and only
 *     when the queued items would keep the awake ones busy for long: queued x service time /
 *     awake above
 *       POOL_WAKE_AFTER_NS for work that mostly waits (wall time at least 4x its CPU time,
 *         more than preemption alone explains): another worker overlaps the waits;
 *       POOL_CPU_BACKLOG_NS for work that computes at least POOL_SPREAD_CPU_NS per item (a
 *         TLS handshake): a second CPU helps once one worker falls behind, not for the
 *         item or two queued behind the one it is computing, the normal state of a worker
 *         that keeps up. Spread over two CPUs beside its client, the pool spent 1.21-1.29x
 *         nginx's CPU per handshake here against 1.02-1.11x kept on one CPU
 *         (results/conn-cost-notes.md), and each wake-up took a CPU from the clients;
 *       POOL_LONG_BACKLOG_NS for the rest: as for a bare greeting whose cost is mostly the
 *         kernel's, one worker serving items back to back beats two on two CPUs: they would
 *         pay a wake-up each, share the kernel's socket structures across CPUs, and take the
 *         CPU from the very clients that send the work.
 * Bare greetings then run on one busy worker that drains many items per wake-up, CPU work
 * (TLS handshakes) on as many workers as keep up, at most one per CPU, and slow work (a 1 ms
 * sleep) wakes as many as it needs. Each worker takes its fair share of the queue per lock
 * (pool_share).
 *
 * The accept thread (under --overload block) refills the queue between two marks instead of
 * emptying the kernel's backlog at each wake-up: it waits for the listener only while fewer
 * than `low` connections are queued, and once it holds `high` it stops accepting until the
 * queue is down to `low` again (pool_refill_for). A sleep and a wake-up cost more than an
 * accept; clients wait as well in the kernel's backlog as in the queue, provided the backlog
 * has room. `low` covers every worker twice and the time a woken accept thread may wait for
 * a CPU; `high` makes each refill worth its wake-up and leaves the queue room for a whole
 * batch, so the accept thread never blocks on a full queue. It accepts at once instead under
 * --overload reject (an overload must be answered, not hidden), and when the kernel's
 * backlog is too small to hold clients for several refills: there a client left in it could
 * have its connection attempt dropped.
 */
#define POOL_WAKE_AFTER_NS 200000u
#define POOL_CPU_BACKLOG_NS 1000000u
#define POOL_LONG_BACKLOG_NS 10000000u
#define POOL_SPREAD_CPU_NS 50000u
#define POOL_STALLED_AFTER_NS 20000000u
#define POOL_STALLED_AFTER_MS ((int)(POOL_STALLED_AFTER_NS / 1000000u))

/* What the wake-up rule looks at: a snapshot of the queue, taken under its lock. */
typedef struct pool_view {
    size_t queued;           /* items in the queue */
    unsigned consumers;      /* workers that pop, asleep or not (at least 1) */
    unsigned asleep;         /* asleep and not yet signalled */
    uint64_t service_ns;     /* moving average of the wall time one item takes a worker */
    uint64_t service_cpu_ns; /* ... and of its CPU time */
    uint64_t since_pop_ns;   /* since a worker last took items (0 when that is newer than now) */
    unsigned cpus;           /* CPUs online */
} pool_view;

/* 1 when the queue should wake one sleeping worker now (the rules above). */
int pool_should_wake(const pool_view *v);

/* How many of `queued` items one of `consumers` workers takes per lock: its fair share,
 * rounded up, at most max. */
size_t pool_share(size_t queued, unsigned consumers, size_t max);

/* A moving average over about eight samples (of per-item service times). */
uint64_t pool_average(uint64_t average, uint64_t sample);

/* The accept thread serves a bare greeting itself while every worker sleeps (model_pool.c),
 * but for at most half of each POOL_SERVE_WINDOW_NS: past that the load is worth a worker's
 * wake-up, and the accept thread keeps the other half for accepting. */
#define POOL_SERVE_WINDOW_NS 10000000u

typedef struct pool_serve_budget {
    uint64_t window_start_ns; /* the current window's start (0: none yet) */
    uint64_t served_ns;       /* spent serving in it */
} pool_serve_budget;

/* 1 when the accept thread may serve now: less than half of the window that holds now_ns
 * went to serving (a new window starts when the last one is over). */
int pool_may_serve_here(pool_serve_budget *b, uint64_t now_ns);

/* Adds serving that took spent_ns to the current window. */
void pool_served_here(pool_serve_budget *b, uint64_t spent_ns);

/* The accept thread's refill marks; refill 0 means accept at once (no marks). */
typedef struct pool_refill {
    int refill;
    size_t low, high;
} pool_refill;

/* The marks for a queue of `capacity`, `workers` workers taking up to `batch` items per lock,
 * and a kernel backlog of `backlog`; `block` is --overload block. */
pool_refill pool_refill_for(size_t capacity, size_t workers, size_t batch, size_t backlog,
                            int block);

#ifdef __cplusplus
}
#endif
#endif
