/* engine.c -- loadgen's per-thread event loop: starting, ending and timing connections, their
 * timers, and the intervals handed to the main thread (exchange.c runs an open connection's
 * steps). */
#include "engine.h"
#include "engine_conn.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dlist.h"
#include "handoff.h"
#include "schedule.h"
#include "shard.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_EVENTS 256
#define BACKOFF_NS 10000000ull    /* after refused, fd_limit or addr_unavail, a slot waits 10 ms */
#define REFUSED_GAP_NS (1000000000ull / LG_REFUSED_RETRIES_PER_S) /* between refused retries */
#define REFUSED_RELEASE 2         /* slots a successful connect lets out of that queue early */
#define MAX_WAIT_NS 100000000ull  /* wake at least this often to notice a stop */

/* ---- small helpers ---- */

static void atomic_inc_peak(atomic_long *value, atomic_long *peak)
{
    long now = atomic_fetch_add_explicit(value, 1, memory_order_relaxed) + 1;
    long seen = atomic_load_explicit(peak, memory_order_relaxed);
    while (now > seen && !atomic_compare_exchange_weak_explicit(peak, &seen, now,
                                                                memory_order_relaxed,
                                                                memory_order_relaxed))
        ;
}

static void atomic_dec(atomic_long *value)
{
    atomic_fetch_sub_explicit(value, 1, memory_order_relaxed);
}

/* A connection established (1) or no longer waiting for its first byte (-1): counted per
 * thread for the intervals and in the shared gauge for the run's peak. */
static void count_awaiting(engine_worker *w, conn *c, int delta)
{
    c->awaiting = delta > 0;
    w->awaiting += delta;
    if (delta > 0)
        atomic_inc_peak(&w->sh->established, &w->sh->peak_established);
    else
        atomic_dec(&w->sh->established);
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* This thread's share of total when split over threads: the first ones take the remainder. */
static uint64_t share(uint64_t total, int threads, int id)
{
    return total / (uint64_t)threads + ((uint64_t)id < total % (uint64_t)threads);
}

/* Closed loop: how many connections this thread may have open now (--stage sets it over
 * time; otherwise every slot). */
static long closed_allowed(const engine_worker *w, uint64_t now)
{
    const stage_plan *plan = &w->cfg->stages;
    if (!plan->n)
        return LONG_MAX;
    /* The plan is the whole fleet's: this shard's share, then this thread's. */
    long long level = shard_share(llround(stages_level(plan, now - w->sh->start_ns)),
                                  &w->cfg->shard);
    return (long)share((uint64_t)level, w->threads, w->id);
}

static void conn_start(engine_worker *w, conn *c, uint64_t sched_ns);
static int may_start(const engine_worker *w, uint64_t due_ns);
static void rotate_interval(engine_worker *w, uint64_t now);

/* ---- ending a connection ---- */

/* 1 once the measured window is over: -d ran out, or a signal or --abort-after stopped the
 * run. What finishes later is counted (its latency matters) but not in the rate. */
static int after_window(const engine_worker *w, uint64_t now)
{
    return now >= w->sh->end_ns ||
           now >= atomic_load_explicit(&w->sh->stop_ns, memory_order_relaxed);
}

/* Adds the part of c's life after the warm-up, up to now, to the connection time (Little's
 * law), whether or not c was counted or greeted. */
static void count_open_time(engine_worker *w, const conn *c, uint64_t now)
{
    uint64_t from = c->start_ns > w->sh->measure_ns ? c->start_ns : w->sh->measure_ns;
    if (now <= from)
        return;
    w->st->conn_time_ns += now - from;
    w->st->last_finish_ns = now;
}

/* The connection's first exchange passed at now: a greeting, counted once. */
void engine_count_greeting(engine_worker *w, conn *c, uint64_t now)
{
    lg_stats *s = w->st;
    c->greeted = 1;
    if (!c->counted) {
        s->warmup_greetings++;
        return;
    }
    s->greetings++;
    s->greetings_after_window += after_window(w, now);
    hist_record(s->phase[LG_PHASE_GREETING], us_between(c->sched_ns, now));
    if (w->open_loop)
        hist_record(s->phase[LG_PHASE_GREETING_UNCORRECTED], us_between(c->start_ns, now));
}

/* Counts the outcome of a connection that ended at now: its greeting if that is still to be
 * counted, or the failure (of the greeting, or of a later request). */
static void record_outcome(engine_worker *w, conn *c, uint64_t now, conn_outcome o)
{
    lg_stats *s = w->st;
    count_open_time(w, c, now);
    if (o.good && !c->greeted)
        engine_count_greeting(w, c, now);
    if (!o.good && c->greeted && exchange_counted(w, c))
        s->failed_requests++;
    if (!c->counted)
        return;
    if (!o.good && !c->greeted) {
        s->errors[o.cause]++;
        if (o.cause == LG_ERR_OTHER)
            s->last_other_errno = o.errnum;
    }
}

/* Puts a waiting slot back on the idle stack. */
static void slot_ready(engine_worker *w, conn *c)
{
    dl_remove(&c->timer);
    c->state = CONN_IDLE;
    w->idle[w->nidle++] = c->slot;
}

/* A refused slot waits its turn: BACKOFF_NS, and REFUSED_GAP_NS after the thread's previous
 * refused retry, so a closed port sees at most 200 connects/s per thread whatever -c is
 * (1000 slots each retrying after 10 ms made 94k refused connects/s). */
static void pace_refused(engine_worker *w, conn *c, uint64_t now)
{
    uint64_t due = now + BACKOFF_NS;
    if (due < w->refused_next_ns + REFUSED_GAP_NS)
        due = w->refused_next_ns + REFUSED_GAP_NS;
    w->refused_next_ns = due;
    c->state = CONN_BACKOFF;
    dl_append(&w->refusals, &c->timer, due);
    w->st->refused_backoffs += c->counted;
}

/* A connect succeeded: the target is back, so a few refused slots need not wait their turn
 * (each success lets out REFUSED_RELEASE more, so the run ramps up in a few round trips,
 * while a target that still refuses most connects cannot make them spin). */
static void release_refused(engine_worker *w)
{
    conn *c;
    for (int i = 0; i < REFUSED_RELEASE && (c = DL_FIRST(&w->refusals, conn, timer)); i++)
        slot_ready(w, c);
}

/* Returns the slot for another start: at once, or after a pause when local resources ran out
 * or the target refused (retrying a full descriptor table, a full port range or a closed port
 * at once would only spin: 273,611 refusals in 2 s at 96% CPU). */
static void release_slot(engine_worker *w, conn *c, uint64_t now, conn_outcome o)
{
    if (!w->open_loop && !o.good && o.cause == LG_ERR_REFUSED) {
        pace_refused(w, c, now);
        return;
    }
    if (!w->open_loop && !o.good &&
        (o.cause == LG_ERR_FD_LIMIT || o.cause == LG_ERR_ADDR_UNAVAIL)) {
        c->state = CONN_BACKOFF;
        dl_append(&w->backoffs, &c->timer, now + BACKOFF_NS);
        return;
    }
    c->state = CONN_IDLE;
    w->idle[w->nidle++] = c->slot;
}

/* Closes an open connection and counts how it ended. */
void engine_conn_end(engine_worker *w, conn *c, uint64_t now, conn_outcome o)
{
    dl_remove(&c->timer);
    if (c->awaiting)
        count_awaiting(w, c, -1);
    w->tp->close(&c->tc);
    w->open--;
    atomic_dec(&w->sh->in_flight);
    record_outcome(w, c, now, o);
    release_slot(w, c, now, o);
    /* Closed loop: replace it at once. (A start that fails only goes back on the idle stack,
     * so this never recurses.) */
    if (!w->open_loop && c->state == CONN_IDLE && may_start(w, now) &&
        w->open < closed_allowed(w, now)) {
        w->nidle--; /* c's slot, just pushed */
        conn_start(w, c, 0);
    }
}

/* A start that failed before the connection was open (socket, bind, connect, epoll_ctl). */
static void start_failed(engine_worker *w, conn *c, uint64_t now, int errnum)
{
    if (c->tc.fd >= 0)
        w->tp->close(&c->tc);
    conn_outcome o = failed_with(lg_stats_classify_errno(errnum), errnum);
    record_outcome(w, c, now, o);
    release_slot(w, c, now, o);
}

/* ---- starting a connection ---- */

/* A UNIX datagram client needs an address of its own for the reply: Linux autobinds one in
 * the abstract namespace when bind is given just the family (as net_connect_unix does). */
static int autobind_unix(int fd)
{
    sa_family_t family = AF_UNIX;
    return bind(fd, (const struct sockaddr *)&family, sizeof(family));
}

static int bind_source(engine_worker *w, int fd)
{
    const lg_target *t = w->sh->target;
    const struct sockaddr_storage *src = &t->sources[w->next_source++ % t->nsources];
    int one = 1;
    /* Let connect() pick the port per destination, so each source has a full port range. */
    (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    socklen_t len = src->ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                              : sizeof(struct sockaddr_in6);
    return bind(fd, (const struct sockaddr *)src, len);
}

/* Starts slot c, due at sched_ns (the actual start for the closed loop). */
static void conn_start(engine_worker *w, conn *c, uint64_t sched_ns)
{
    const lg_target *t = w->sh->target;
    uint64_t now = clock_now_ns();
    rotate_interval(w, now); /* each figure lands in the interval of its own time */
    c->sched_ns = sched_ns ? sched_ns : now;
    c->start_ns = now;
    c->counted = c->sched_ns >= w->sh->measure_ns;
    c->got = c->sent = 0;
    c->awaiting = 0;
    c->step = 0;
    c->greeted = c->stale = 0;
    c->exchanges = 0;
    check_reply_reset(&c->reply);
    c->tc.state = NULL;
    if (c->counted) {
        w->st->starts++;
        if (w->quota > 0)
            w->quota--;
        if (w->open_loop && now - c->sched_ns > ENGINE_LATE_NS)
            w->st->late_starts++;
    }
    int is_unix = t->addr.ss_family == AF_UNIX, dgram = w->tp->socktype == SOCK_DGRAM;
    c->tc.fd = socket(t->addr.ss_family, w->tp->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->tc.fd < 0 || (t->nsources && bind_source(w, c->tc.fd) != 0) ||
        (is_unix && dgram && autobind_unix(c->tc.fd) != 0) ||
        (connect(c->tc.fd, (const struct sockaddr *)&t->addr, t->addrlen) != 0 &&
         errno != EINPROGRESS)) {
        /* A UNIX listener with a full backlog fails a non-blocking connect with EAGAIN at
         * once, where TCP would wait for the SYN's retry: the server turned us away. */
        start_failed(w, c, now, is_unix && errno == EAGAIN ? ECONNREFUSED : errno);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->tc.fd, &ev) != 0) {
        start_failed(w, c, now, errno);
        return;
    }
    c->state = CONN_CONNECTING;
    w->open++;
    atomic_inc_peak(&w->sh->in_flight, &w->sh->peak_in_flight);
    dl_append(&w->timeouts, &c->timer, now + w->timeout_ns);
}

/* True while this thread may still start a connection due at due_ns. */
static int may_start(const engine_worker *w, uint64_t due_ns)
{
    return w->drain_deadline_ns == 0 && w->quota != 0 && due_ns < w->sh->end_ns;
}

/* Starts whatever is due: closed loop, every idle slot (and the ramp's next ones); open loop,
 * the timetable's due starts while slots are free. At most nconns starts per pass, so a
 * target refusing synchronously cannot keep the loop from its events and timers. */
static void start_due(engine_worker *w, uint64_t now)
{
    uint32_t budget = w->nconns;
    if (w->open_loop) {
        while (w->nidle > 0 && budget-- > 0) {
            uint64_t due = schedule_due(&w->sched);
            if (due > now || !may_start(w, due))
                return;
            schedule_take(&w->sched);
            conn_start(w, &w->conns[w->idle[--w->nidle]], due);
        }
        return;
    }
    while (w->never_opened < w->nconns &&
           (!w->cfg->connect_rate || schedule_due(&w->sched) <= now)) {
        if (w->cfg->connect_rate)
            schedule_take(&w->sched);
        w->idle[w->nidle++] = w->never_opened++;
    }
    long allowed = closed_allowed(w, now);
    while (w->nidle > 0 && budget-- > 0 && may_start(w, now) && w->open < allowed)
        conn_start(w, &w->conns[w->idle[--w->nidle]], 0);
}

/* ---- events ---- */

/* Declared in engine_conn.h. */
void engine_first_byte(engine_worker *w, conn *c, uint64_t now)
{
    if (c->counted)
        hist_record(w->st->phase[LG_PHASE_FIRST_BYTE], us_between(c->start_ns, now));
    if (c->awaiting)
        count_awaiting(w, c, -1);
}

/* The connect completed (EPOLLOUT) or failed (EPOLLERR): SO_ERROR says which. */
static int on_connected(engine_worker *w, conn *c, uint64_t now)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(c->tc.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr != 0) {
        engine_conn_end(w, c, now, failed_with(lg_stats_classify_errno(soerr), soerr));
        return 0;
    }
    if (c->counted && !w->tp->one_reply)
        hist_record(w->st->phase[LG_PHASE_CONNECT], us_between(c->start_ns, now));
    c->connected_ns = now;
    release_refused(w);
    count_awaiting(w, c, 1);
    c->state = CONN_HANDSHAKE;
    dl_append(&w->timeouts, &c->timer, now + w->timeout_ns);
    return 1;
}

/* Advances the transport's handshake; 1 when it is done and the connection moves on. A timed
 * handshake ends at a fresh clock reading (*now): its last step did the CPU work. */
static int step_handshake(engine_worker *w, conn *c, uint64_t *now)
{
    transport_result r = w->tp->handshake(w->tp_ctx, &c->tc);
    if (r == TRANSPORT_AGAIN)
        return 0;
    if (r != TRANSPORT_DONE) {
        engine_conn_end(w, c, *now, exchange_failure(w, c));
        return 0;
    }
    if (w->tp->timed_handshake) {
        *now = clock_now_ns();
        if (c->counted) {
            hist_record(w->st->phase[LG_PHASE_TLS], us_between(c->connected_ns, *now));
            if (w->tp->resumed(&c->tc))
                w->st->tls_resumed++;
            else
                w->st->tls_full++;
        }
        dl_append(&w->timeouts, &c->timer, *now + w->timeout_ns);
    }
    exchange_enter_step(w, c, *now);
    return 1;
}

static void on_event(engine_worker *w, conn *c, uint32_t events)
{
    uint64_t now = clock_now_ns();
    rotate_interval(w, now);
    if (c->state == CONN_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || !on_connected(w, c, now))
            return;
    }
    if (c->state == CONN_HANDSHAKE) {
        if (!step_handshake(w, c, &now))
            return;
        /* TLS may hold records it read past the handshake: look now, not at the next edge. */
        if (w->tp->timed_handshake)
            events |= EPOLLIN;
    }
    if (c->state == CONN_SENDING && !exchange_send(w, c, now))
        return;
    if (c->state == CONN_READING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        exchange_read(w, c, events, now);
}

/* ---- timers, waiting, shutdown ---- */

static void expire_timers(engine_worker *w, uint64_t now)
{
    conn *c;
    while ((c = DL_FIRST(&w->timeouts, conn, timer)) && c->timer.deadline_ns <= now) {
        if (c->counted && exchange_unchecked_reply(w, c))
            w->st->waited_after_reply++;
        exchange_fail(w, c, now, failed_with(LG_ERR_TIMEOUT, ETIMEDOUT));
    }
    /* Requests due (all of them once the run ends: the connection closes instead). */
    while ((c = DL_FIRST(&w->waits, conn, timer)) &&
           (c->timer.deadline_ns <= now || w->drain_deadline_ns)) {
        dl_remove(&c->timer);
        if (!exchange_requests_left(w, c, now))
            engine_conn_end(w, c, now, greeted);
        else {
            exchange_start_request(w, c, now);
            exchange_send(w, c, now);
        }
    }
    while ((c = DL_FIRST(&w->backoffs, conn, timer)) && c->timer.deadline_ns <= now)
        slot_ready(w, c);
    while ((c = DL_FIRST(&w->refusals, conn, timer)) && c->timer.deadline_ns <= now)
        slot_ready(w, c);
}

/* True when a start may still come: the loop must keep running even with nothing open. */
static int starts_remain(const engine_worker *w)
{
    if (w->open_loop)
        return may_start(w, schedule_due(&w->sched));
    return may_start(w, clock_now_ns());
}

/* Closed loop with --stage at its level: when to look at the level again. */
static uint64_t stage_look(const engine_worker *w, uint64_t now)
{
    uint64_t t = stages_next_look(&w->cfg->stages, now - w->sh->start_ns);
    return t == UINT64_MAX ? UINT64_MAX : w->sh->start_ns + t;
}

/* When the loop must wake next, at the latest. */
static uint64_t next_wakeup(const engine_worker *w, uint64_t now)
{
    uint64_t wake = now + MAX_WAIT_NS;
    if (w->timeouts.head)
        wake = min_u64(wake, w->timeouts.head->deadline_ns);
    if (w->backoffs.head)
        wake = min_u64(wake, w->backoffs.head->deadline_ns);
    if (w->refusals.head)
        wake = min_u64(wake, w->refusals.head->deadline_ns);
    if (w->waits.head)
        wake = min_u64(wake, w->waits.head->deadline_ns);
    wake = min_u64(wake, w->slice_end_ns);
    if (w->drain_deadline_ns)
        return min_u64(wake, w->drain_deadline_ns);
    wake = min_u64(wake, w->sh->end_ns);
    /* Open loop with a free slot, or closed loop still ramping up: the next scheduled start.
     * Closed loop with a free slot: now. */
    if (!w->open_loop && w->nidle > 0 && w->open < closed_allowed(w, now))
        wake = now;
    else if (!w->open_loop && w->nidle > 0) /* --stage holds the rest back for now */
        wake = min_u64(wake, stage_look(w, now));
    else if ((w->open_loop && w->nidle > 0) || (!w->open_loop && w->never_opened < w->nconns))
        wake = min_u64(wake, schedule_due(&w->sched));
    return wake;
}

static int wait_events(engine_worker *w, struct epoll_event *events, uint64_t wait_ns)
{
    if (w->use_pwait2) {
        struct timespec ts = {(time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u)};
        int n = epoll_pwait2(w->epfd, events, MAX_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        w->use_pwait2 = 0;
    }
    return epoll_wait(w->epfd, events, MAX_EVENTS, (int)((wait_ns + 999999) / 1000000));
}

/* At the drain deadline: what is still open, or was due but never started, is unfinished. */
static void abandon_rest(engine_worker *w, uint64_t now)
{
    for (uint32_t i = 0; i < w->nconns; i++) {
        conn *c = &w->conns[i];
        if (c->state < CONN_CONNECTING)
            continue;
        dl_remove(&c->timer);
        if (c->awaiting)
            count_awaiting(w, c, -1);
        w->tp->close(&c->tc);
        atomic_dec(&w->sh->in_flight);
        count_open_time(w, c, now);
        w->st->unfinished += c->counted && !c->greeted; /* greeted: already counted */
        c->state = CONN_IDLE;
    }
    w->open = 0;
    uint64_t bound = min_u64(now, w->sh->end_ns);
    while (w->open_loop && w->quota != 0 && schedule_due(&w->sched) < bound) {
        w->st->unfinished += schedule_due(&w->sched) >= w->sh->measure_ns;
        if (w->quota > 0)
            w->quota--;
        schedule_take(&w->sched);
    }
}

static void publish_progress(engine_worker *w)
{
    /* Good exchanges: a kept-alive run that still gets replies is not failing. */
    atomic_store_explicit(&w->progress.greetings,
                          w->past_greetings + w->st->greetings + w->st->warmup_greetings +
                              w->requests_passed,
                          memory_order_relaxed);
    atomic_store_explicit(&w->progress.errors, w->past_errors + lg_stats_error_total(w->st),
                          memory_order_relaxed);
}

/* ---- intervals ---- */

/* The interval holding time t: -1 in the warm-up, then 0, 1, ... from the warm-up's end. */
static int64_t interval_at(const engine_worker *w, uint64_t t)
{
    return t < w->sh->measure_ns ? -1 : (int64_t)((t - w->sh->measure_ns) / w->interval_ns);
}

static uint64_t interval_end(const engine_worker *w, int64_t index)
{
    return w->sh->measure_ns + (uint64_t)(index + 1) * w->interval_ns;
}

/* Once now has passed the end of the interval being recorded, hands its figures to the main
 * thread and records into an empty slice. Without memory for one, keeps recording into the
 * same slice (its figures then land in an earlier interval, never lost). */
static void rotate_interval(engine_worker *w, uint64_t now)
{
    if (now < w->slice_end_ns)
        return;
    int64_t next = interval_at(w, now);
    /* Read before posting: once posted, the slice is the main thread's. */
    uint64_t greetings = w->st->greetings + w->st->warmup_greetings;
    uint64_t errors = lg_stats_error_total(w->st);
    w->slice->open_at_end = w->open;
    w->slice->established_at_end = w->awaiting;
    lg_slice *fresh = handoff_swap(&w->box, w->slice, next);
    w->slice_end_ns = interval_end(w, next);
    if (!fresh)
        return;
    w->past_greetings += greetings;
    w->past_errors += errors;
    w->slice = fresh;
    w->st = &fresh->stats;
}

/* Nanoseconds this thread spent runnable but waiting for a CPU (the second field of
 * /proc/thread-self/schedstat); 0 when the kernel does not say. */
static uint64_t thread_cpu_wait_ns(void)
{
    unsigned long long on_cpu = 0, waiting = 0;
    FILE *f = fopen("/proc/thread-self/schedstat", "re");
    if (!f)
        return 0;
    /* A fixed kernel format; anything unexpected just means "unknown" (0). */
    if (fscanf(f, "%llu %llu", &on_cpu, &waiting) != 2) // NOLINT(cert-err34-c): see above
        waiting = 0;
    fclose(f);
    return waiting;
}

void *engine_worker_main(void *arg)
{
    engine_worker *w = arg;
    struct epoll_event events[MAX_EVENTS];
    /* The default 50 us timer slack would delay every scheduled start by up to that much. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    uint64_t cpu0 = clock_thread_cpu_ns(), wait0 = thread_cpu_wait_ns(), wall0 = clock_now_ns();
    uint64_t now;
    for (;;) {
        now = clock_now_ns();
        rotate_interval(w, now);
        start_due(w, now); /* before the drain check: open-loop starts due before the end run */
        if (!w->drain_deadline_ns &&
            (atomic_load_explicit(&w->sh->stop, memory_order_relaxed) || now >= w->sh->end_ns))
            w->drain_deadline_ns = now + min_u64(ENGINE_GRACE_NS, w->timeout_ns);
        expire_timers(w, now);
        if (w->drain_deadline_ns && now >= w->drain_deadline_ns)
            break;
        if (w->open == 0 && !starts_remain(w))
            break;
        uint64_t wake = next_wakeup(w, now);
        int n = wait_events(w, events, wake > now ? wake - now : 0);
        for (int i = 0; i < n; i++)
            on_event(w, events[i].data.ptr, events[i].events);
        publish_progress(w);
    }
    abandon_rest(w, now);
    publish_progress(w);
    w->cpu_ns = clock_thread_cpu_ns() - cpu0;
    w->cpu_wait_ns = thread_cpu_wait_ns() - wait0;
    w->wall_ns = clock_now_ns() - wall0;
    w->slice->open_at_end = w->open;
    w->slice->established_at_end = w->awaiting;
    handoff_finish(&w->box, w->slice);
    w->slice = NULL;
    w->st = NULL;
    atomic_store(&w->progress.done, 1);
    return NULL;
}

/* ---- creation ---- */


static void init_schedule(engine_worker *w, int threads)
{
    const lg_config *cfg = w->cfg;
    double rate = w->open_loop ? cfg->rate : (double)cfg->connect_rate;
    if (w->open_loop && cfg->stages.n) {
        /* The plan's starts are the fleet's: every thread of every shard takes its own
         * positions on the plan's count, interleaved. */
        int fleet_threads = threads * (int)cfg->shard.count;
        int fleet_id = w->id * (int)cfg->shard.count + (int)cfg->shard.index;
        schedule_init_staged(&w->sched, &cfg->stages, fleet_threads, fleet_id, cfg->poisson,
                             w->sh->start_ns, cfg->seed + (uint64_t)w->id * 0x9e3779b97f4a7c15ull);
        return;
    }
    if (rate <= 0)
        return;
    /* Thread k starts k global gaps late, so the threads' uniform timetables interleave. */
    uint64_t offset = cfg->poisson ? 0 : (uint64_t)(1e9 / rate * w->id);
    schedule_init(&w->sched, rate / threads, cfg->poisson, w->sh->start_ns + offset,
                  cfg->seed + (uint64_t)w->id * 0x9e3779b97f4a7c15ull);
}

engine_worker *engine_worker_create(engine_shared *sh, int id, int threads, char *err,
                                    size_t errlen)
{
    const lg_config *cfg = sh->cfg;
    engine_worker *w = calloc(1, sizeof(*w));
    if (!w)
        goto out_nomem;
    w->epfd = -1;
    w->sh = sh;
    w->interval_ns = (uint64_t)cfg->interval_us * 1000u;
    if (handoff_init(&w->box) != 0)
        goto out_nomem;
    w->box_ready = 1;
    int64_t first = interval_at(w, clock_now_ns());
    if (!(w->slice = handoff_swap(&w->box, NULL, first)))
        goto out_nomem;
    w->st = &w->slice->stats;
    w->slice_end_ns = interval_end(w, first);
    w->cfg = cfg;
    w->tp = sh->transport;
    w->id = id;
    w->threads = threads;
    w->dialog = &cfg->dialog;
    /* With --requests, -R schedules each connection's requests; connections are the closed
     * loop's -c. */
    w->open_loop = cfg->rate > 0 && cfg->requests == 1;
    if (cfg->rate > 0 && cfg->requests != 1)
        w->request_gap_ns = (uint64_t)(1e9 * (double)cfg->connections / cfg->rate);
    w->use_pwait2 = 1;
    w->timeout_ns = (uint64_t)cfg->timeout_us * 1000u;
    w->nconns = (uint32_t)share((uint64_t)cfg->connections, threads, id);
    w->quota = cfg->total ? (int64_t)share((uint64_t)cfg->total, threads, id) : -1;
    w->next_source = (size_t)id;
    w->conns = calloc(w->nconns, sizeof(*w->conns));
    w->idle = calloc(w->nconns, sizeof(*w->idle));
    if (!w->conns || !w->idle)
        goto out_nomem;
    for (uint32_t i = 0; i < w->nconns; i++) {
        w->conns[i].slot = i;
        w->conns[i].tc.fd = -1;
    }
    if (w->open_loop) /* every slot is free; the timetable decides when they start */
        for (uint32_t i = 0; i < w->nconns; i++)
            w->idle[w->nidle++] = w->nconns - 1 - i;
    init_schedule(w, threads);
    if (w->tp->thread_new && !(w->tp_ctx = w->tp->thread_new(cfg, err, errlen))) {
        engine_worker_destroy(w);
        return NULL;
    }
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        engine_worker_destroy(w);
        return NULL;
    }
    return w;
out_nomem:
    snprintf(err, errlen, "out of memory for %ld connection slots", cfg->connections);
    engine_worker_destroy(w);
    return NULL;
}

handoff *engine_worker_handoff(engine_worker *w) { return &w->box; }
engine_progress *engine_worker_progress(engine_worker *w) { return &w->progress; }

void engine_worker_times(const engine_worker *w, uint64_t *cpu_ns, uint64_t *cpu_wait_ns,
                         uint64_t *wall_ns)
{
    *cpu_ns = w->cpu_ns;
    *cpu_wait_ns = w->cpu_wait_ns;
    *wall_ns = w->wall_ns;
}

void engine_worker_destroy(engine_worker *w)
{
    if (!w)
        return;
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->tp_ctx)
        w->tp->thread_free(w->tp_ctx);
    if (w->slice) {
        lg_stats_destroy(&w->slice->stats);
        free(w->slice);
    }
    if (w->box_ready)
        handoff_destroy(&w->box);
    free(w->conns);
    free(w->idle);
    free(w);
}
