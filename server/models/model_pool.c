/* model_pool.c -- the production model: one accept thread feeds a fixed pool of worker threads. */
#include "acceptor.h"
#include "clock.h"
#include "net.h"
#include "pool_policy.h"
#include "queue.h"
#include "server.h"
#include "shutdown.h"
#include "udp.h"
#include "waiting_room.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Connections moved per lock acquisition, by the accept thread and by each worker: under load
 * this divides the queue's lock and wake-up traffic by up to this much. */
#define BATCH_MAX ((size_t)16)

/* The handler needs little stack; small stacks let hundreds of workers stay cheap. */
#define WORKER_STACK_BYTES ((size_t)256 * 1024)

typedef struct pool {
    server *srv;
    conn_queue queue;
    waiting_room *room; /* where connections wait on their peers, instead of a worker */
    pthread_t *threads;
    int started;
} pool;

/* How often a worker reads its CPU clock: once per CPU_SAMPLE_ITEMS items served, or after
 * CPU_SAMPLE_MAX_NS of wall time if fewer came. The thread CPU clock is a system call, not a
 * vDSO read like CLOCK_MONOTONIC (about 1.4 us on a KVM guest with page table isolation):
 * read around each batch, it cost more than a greeting's own close check. The policy wants
 * a moving average, which a sample per tens of items keeps as well. */
#define CPU_SAMPLE_ITEMS 32u
#define CPU_SAMPLE_MAX_NS 100000000u

/* What a worker measures of its items for the hand-off policy: the wall time of each batch
 * (CLOCK_MONOTONIC), and its CPU time over the span since its last sample, which includes
 * the pop's own (a lock, maybe a futex call): a little more CPU per item, never less. */
typedef struct service_meter {
    uint64_t sampled_ns;     /* wall clock at the last sample (0: none yet) */
    uint64_t sampled_cpu_ns; /* the thread's CPU clock then */
    uint64_t wall_ns;        /* time spent serving since, summed over batches */
    size_t items;            /* items served since */
} service_meter;

/* Adds a batch of n items that took wall_ns, ending at now_ns. When a sample is due (the
 * first batch, then as CPU_SAMPLE_* say) sets the per-item figures and returns 1. */
static int meter_add(service_meter *m, size_t n, uint64_t wall_ns, uint64_t now_ns,
                     uint64_t *per_item_ns, uint64_t *per_item_cpu_ns)
{
    m->wall_ns += wall_ns;
    m->items += n;
    if (m->sampled_ns != 0 && m->items < CPU_SAMPLE_ITEMS &&
        now_ns - m->sampled_ns < CPU_SAMPLE_MAX_NS)
        return 0;
    uint64_t cpu_ns = clock_thread_cpu_ns();
    *per_item_ns = m->wall_ns / m->items;
    *per_item_cpu_ns = (cpu_ns - m->sampled_cpu_ns) / m->items;
    m->sampled_ns = now_ns;
    m->sampled_cpu_ns = cpu_ns;
    m->wall_ns = 0;
    m->items = 0;
    return 1;
}

static void *worker_main(void *arg)
{
    pool *p = arg;
    conn_item batch[BATCH_MAX];
    size_t n;
    uint64_t per_item_ns = 0, per_item_cpu_ns = 0; /* a new sample for the queue, or 0 */
    service_meter meter = {0, clock_thread_cpu_ns(), 0, 0};
    /* The configured size, not `started`: the accept thread is still counting that up. */
    unsigned consumers = (unsigned)p->srv->cfg->workers;
    /* pop keeps handing out queued work after close, so a drain loses nothing. */
    while ((n = conn_queue_pop_many(&p->queue, batch, BATCH_MAX, consumers, per_item_ns,
                                    per_item_cpu_ns)) > 0) {
        uint64_t start = clock_now_ns();
        for (size_t i = 0; i < n; i++)
            waiting_room_serve(p->room, &batch[i]);
        uint64_t end = clock_now_ns();
        if (!meter_add(&meter, n, end - start, end, &per_item_ns, &per_item_cpu_ns))
            per_item_ns = per_item_cpu_ns = 0; /* pop takes 0 as "no new sample" */
    }
    return NULL;
}

static int start_workers(pool *p, int count, char *err, size_t errlen)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    p->threads = calloc((size_t)count, sizeof(*p->threads));
    if (p->threads == NULL) {
        snprintf(err, errlen, "pool of %d workers: out of memory", count);
        pthread_attr_destroy(&attr);
        return -1;
    }
    for (; p->started < count; p->started++) {
        int rc = shutdown_thread_create(&p->threads[p->started], &attr, worker_main, p);
        if (rc != 0) {
            snprintf(err, errlen, "start worker %d of %d: %s", p->started + 1, count, strerror(rc));
            pthread_attr_destroy(&attr);
            return -1;
        }
        pthread_setname_np(p->threads[p->started], "pool-worker");
    }
    pthread_attr_destroy(&attr);
    return 0;
}

/* The accept thread's refill marks (pool_policy.h), and the pool they refill. */
typedef struct accept_policy {
    pool *pool;
    pool_refill marks;
} accept_policy;

static accept_policy accept_policy_for(pool *p)
{
    const server_config *cfg = p->srv->cfg;
    accept_policy ap = {p, pool_refill_for((size_t)cfg->queue_capacity, (size_t)cfg->workers,
                                           BATCH_MAX, (size_t)net_effective_backlog(cfg->backlog),
                                           cfg->overload == OVERLOAD_BLOCK)};
    return ap;
}

/* Blocks until the queue is below the low mark (or a stop is asked). */
static void wait_for_refill(accept_policy *ap)
{
    while (!conn_queue_wait_below(&ap->pool->queue, ap->marks.low, POOL_STALLED_AFTER_MS) &&
           !shutdown_requested())
        ;
}

/* The acceptor's idle hook, before each wait for the listener: under the refill marks it
 * waits there until the queue runs low (pool_refill_for), and it wakes stuck workers. */
static int before_listener_wait(void *arg)
{
    accept_policy *ap = arg;
    if (ap->marks.refill)
        wait_for_refill(ap);
    return conn_queue_nudge(&ap->pool->queue);
}

/* The acceptor's busy hook: a lingering close in the room gives its admission place up. */
static int reclaim_place(void *arg, const struct sockaddr *peer)
{
    pool *p = arg;
    return waiting_room_reclaim(p->room, peer);
}

/* Whether the accept thread may serve this batch itself, if the queue finds every worker
 * asleep (conn_queue_push_unless_idle): every connection in it is a bare greeting
 * (waiting_room_is_instant: a send and a close check that never wait; the room takes what
 * would), the batch is short of full (the backlog is drained), and serving has taken less
 * than half of the accept thread's time lately (pool_may_serve_here). Waking a sleeping
 * worker on another CPU costs more than the greeting itself (results/conn-cost-notes.md);
 * under more load the batches fill or the budget runs out, a worker is woken, and while one
 * is awake every connection goes through the queue. */
static int may_serve_here(pool *p, pool_serve_budget *budget, const conn_item *batch, size_t n)
{
    if (p->srv->cfg->always_hand_off || n == BATCH_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!waiting_room_is_instant(p->room, &batch[i]))
            return 0;
    return pool_may_serve_here(budget, batch[n - 1].accepted_ns);
}

/* Serves a batch in the accept thread, as a worker would. */
static void serve_here(pool *p, pool_serve_budget *budget, const conn_item *batch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        waiting_room_serve(p->room, &batch[i]);
    server_stats_add(&p->srv->stats->accept_served, n);
    pool_served_here(budget, clock_now_ns() - batch[n - 1].accepted_ns);
}

/* Runs in the calling thread until shutdown: every accepted connection goes to the queue, is
 * served right here (serve_here), or, under --overload reject with the queue full, is turned
 * away right here. */
static void accept_loop(pool *p)
{
    const server_config *cfg = p->srv->cfg;
    accept_policy ap = accept_policy_for(p);
    acceptor acc;
    conn_item batch[BATCH_MAX];
    acceptor_init(&acc, p->srv->listen_fd, &cfg->handler, p->srv->stats);
    acc.on_idle = before_listener_wait;
    acc.idle_arg = &ap;
    acc.proxy_header_later = 1; /* the PROXY header is read by a worker or the room */
    acc.on_busy = reclaim_place;
    acc.busy_arg = p;
    size_t queued = 0; /* what the queue held after our last push */
    pool_serve_budget budget = {0, 0};
    for (;;) {
        if (ap.marks.refill && queued >= ap.marks.high)
            wait_for_refill(&ap);
        if (!acceptor_next(&acc, &batch[0]))
            break;
        /* Whoever else is already waiting in the backlog travels in the same hand-off. */
        size_t n = 1;
        while (n < BATCH_MAX && acceptor_try_next(&acc, &batch[n]))
            n++;
        int block = cfg->overload == OVERLOAD_BLOCK, idle = 0;
        size_t pushed = may_serve_here(p, &budget, batch, n)
                            ? conn_queue_push_unless_idle(&p->queue, batch, n, block, &queued, &idle)
                            : conn_queue_push_many(&p->queue, batch, n, block, &queued);
        if (idle) {
            serve_here(p, &budget, batch, n);
            continue;
        }
        for (size_t i = pushed; i < n; i++)
            handler_turn_away(&cfg->handler, &batch[i], p->srv->stats);
    }
    acceptor_destroy(&acc);
}

/* The drain: workers serve what is queued, then the room settles what waits on its peers. */
static void stop_workers(pool *p)
{
    conn_queue_close(&p->queue);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    waiting_room_stop(p->room);
}

int model_pool_run(server *srv, char *err, size_t errlen)
{
    if (srv->cfg->udp) /* datagrams need no accept thread: the workers share the socket */
        return udp_serve(srv, srv->cfg->workers, err, errlen);
    pool p = {.srv = srv};
    if (conn_queue_init(&p.queue, (size_t)srv->cfg->queue_capacity, err, errlen) < 0)
        return -1;
    if (conn_queue_reserve_waiters(&p.queue, (unsigned)srv->cfg->workers, err, errlen) < 0) {
        conn_queue_destroy(&p.queue);
        return -1;
    }
    metrics_watch_queue(srv->metrics, &p.queue);
    p.room = waiting_room_start(&srv->cfg->handler, srv->stats, &p.queue, err, errlen);
    int rc = p.room ? start_workers(&p, srv->cfg->workers, err, errlen) : -1;
    if (rc == 0)
        accept_loop(&p);
    stop_workers(&p);
    metrics_watch_queue(srv->metrics, NULL);
    server_stats_max(&srv->stats->queue_high_water, conn_queue_high_water(&p.queue));
    conn_queue_destroy(&p.queue);
    return rc;
}
