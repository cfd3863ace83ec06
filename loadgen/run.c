/* run.c -- one load-generation run: set up, start the threads, show progress, report. */
#include "run.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "log.h"
#include "report.h"
#include "timeline.h"
#include "start_at.h"

#define PROGRESS_POLL_NS 50000000ull /* the main thread looks at the workers this often */

/* SIGINT/SIGTERM end the run early (and it still reports; a second one while the connections
 * close exits at once, 128 + the signal, with no report); SIGPIPE is never wanted. The stop
 * signals are blocked from here on, in the main thread and so in the workers it starts, and
 * the main thread takes them with sigtimedwait while it watches the run: no handler, which a
 * sanitizer's runtime may defer and lose (as it did for the server). They stay blocked to the
 * exit, so one arriving while the report prints waits, harmless, instead of killing it. */
static void block_stop_signals(sigset_t *stop_signals)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(stop_signals);
    sigaddset(stop_signals, SIGINT);
    sigaddset(stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop_signals, NULL);
}

typedef struct run_state {
    const lg_config *cfg;
    engine_shared shared;
    engine_worker **workers;
    handoff **boxes;  /* each worker's, for the timeline */
    pthread_t *tids;
    int started;
    int aborted;      /* --abort-after stopped the run */
    sigset_t stop_signals;
    int stopped_by;   /* the stop signal that ended the run early, or 0 */
    const char *stop_cause; /* "signal" or "abort": what stopped the run first, or NULL */
    lg_timeline *timeline;
} run_state;

/* Ends the measured window now (the first call only) and tells the workers to stop. */
static void stop_run(run_state *rs, const char *cause)
{
    uint_fast64_t running = UINT64_MAX;
    if (atomic_compare_exchange_strong(&rs->shared.stop_ns, &running, clock_now_ns()))
        rs->stop_cause = cause;
    atomic_store(&rs->shared.stop, 1);
}

static int start_workers(run_state *rs, char *err, size_t errlen)
{
    int threads = rs->cfg->threads;
    block_stop_signals(&rs->stop_signals);
    /* workers is an array of pointers: one engine_worker pointer per thread. */
    rs->workers = calloc((size_t)threads, sizeof(*rs->workers)); // NOLINT(bugprone-sizeof-expression)
    rs->tids = calloc((size_t)threads, sizeof(*rs->tids));
    rs->boxes = calloc((size_t)threads, sizeof(*rs->boxes)); // NOLINT(bugprone-sizeof-expression)
    if (!rs->workers || !rs->tids || !rs->boxes)
        return snprintf(err, errlen, "out of memory"), -1;
    for (int i = 0; i < threads; i++) {
        if (!(rs->workers[i] = engine_worker_create(&rs->shared, i, threads, err, errlen)))
            return -1;
        rs->boxes[i] = engine_worker_handoff(rs->workers[i]);
    }
    for (; rs->started < threads; rs->started++) {
        int rc = pthread_create(&rs->tids[rs->started], NULL, engine_worker_main,
                                rs->workers[rs->started]);
        if (rc != 0) {
            snprintf(err, errlen, "pthread_create: %s", strerror(rc));
            stop_run(rs, "abort");
            break;
        }
    }
    return rs->started == threads ? 0 : -1;
}

/* The progress line during the warm-up (afterwards each interval prints its own). */
static void progress_totals(run_state *rs, uint64_t *greetings, uint64_t *errors);

static void print_warmup_progress(run_state *rs, uint64_t now, uint64_t *last_greetings)
{
    uint64_t greetings, errors;
    progress_totals(rs, &greetings, &errors);
    double t = (double)(now - rs->shared.start_ns) / 1e9;
    fprintf(stderr, "loadgen: %6.1fs warm-up greetings %llu (%llu/s), errors %llu, open %ld\n", t,
            (unsigned long long)greetings,
            (unsigned long long)(greetings - *last_greetings), (unsigned long long)errors,
            atomic_load_explicit(&rs->shared.in_flight, memory_order_relaxed));
    *last_greetings = greetings;
}

static int workers_done(run_state *rs)
{
    for (int i = 0; i < rs->started; i++)
        if (!atomic_load(&engine_worker_progress(rs->workers[i])->done))
            return 0;
    return 1;
}

/* Totals so far over the workers' progress figures (warm-up included). */
static void progress_totals(run_state *rs, uint64_t *greetings, uint64_t *errors)
{
    *greetings = *errors = 0;
    for (int i = 0; i < rs->started; i++) {
        engine_progress *p = engine_worker_progress(rs->workers[i]);
        *greetings += atomic_load_explicit(&p->greetings, memory_order_relaxed);
        *errors += atomic_load_explicit(&p->errors, memory_order_relaxed);
    }
}

/* --abort-after: 1 once connections kept failing, and none succeeding, for that long. */
static int all_failing(run_state *rs, uint64_t now, uint64_t *last_good_ns, uint64_t *greetings)
{
    uint64_t g, e;
    if (!rs->cfg->abort_after_us)
        return 0;
    progress_totals(rs, &g, &e);
    if (g != *greetings || e == 0) { /* a greeting, or nothing failed yet */
        *greetings = g;
        *last_good_ns = now;
        return 0;
    }
    return now - *last_good_ns >= (uint64_t)rs->cfg->abort_after_us * 1000u;
}

/* Waits for the workers, gathering their intervals (which print the progress), printing the
 * warm-up's progress once a second, passing on a stop signal, and stopping the run when every
 * attempt fails. */
static void watch_workers(run_state *rs)
{
    uint64_t next_print = rs->shared.start_ns + 1000000000u, last_greetings = 0;
    uint64_t last_good_ns = rs->shared.start_ns, seen_greetings = 0;
    struct timespec pause = {0, (long)PROGRESS_POLL_NS};
    while (!workers_done(rs)) {
        int sig = sigtimedwait(&rs->stop_signals, NULL, &pause); /* or times out */
        if (sig > 0 && rs->stopped_by) { /* a second one: the user wants out now */
            fprintf(stderr, "loadgen: second stop signal (SIG%s): exiting without a report\n",
                    sigabbrev_np(sig));
            _exit(128 + sig);
        }
        if (sig > 0) {
            rs->stopped_by = sig;
            stop_run(rs, "signal");
        }
        if (!rs->aborted && all_failing(rs, clock_now_ns(), &last_good_ns, &seen_greetings)) {
            rs->aborted = 1;
            stop_run(rs, "abort");
        }
        timeline_collect(rs->timeline, rs->boxes, rs->started);
        uint64_t now = clock_now_ns();
        if (now >= next_print && now < rs->shared.measure_ns) {
            if (!rs->cfg->quiet)
                print_warmup_progress(rs, now, &last_greetings);
            next_print += 1000000000u;
        }
    }
}

static double timeval_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The end of the measured window, and what ended it (*stopped_by): a signal or --abort-after
 * (the moment it came), -n (the last counted end: every connection was made and finished)
 * or -d (the planned end). The rate counts the greetings that finished inside the window;
 * the ones that finish in the grace after it are counted apart. */
static uint64_t measured_window_end(run_state *rs, const lg_stats *merged,
                                    const char **stopped_by)
{
    uint64_t stop_ns = atomic_load(&rs->shared.stop_ns), end_ns = rs->shared.end_ns;
    uint64_t last = merged->last_finish_ns ? merged->last_finish_ns : clock_now_ns();
    long long total = rs->cfg->total;
    if (stop_ns < end_ns) {
        *stopped_by = rs->stop_cause ? rs->stop_cause : "abort";
        return stop_ns;
    }
    if (end_ns == UINT64_MAX || (total && merged->starts >= (uint64_t)total && last < end_ns)) {
        *stopped_by = "count";
        return last;
    }
    *stopped_by = "duration";
    return end_ns;
}

/* Joins the workers and fills the report from their merged results (the timeline adds every
 * interval into merged). */
static void collect(run_state *rs, lg_stats *merged, lg_report *r)
{
    for (int i = 0; i < rs->started; i++)
        pthread_join(rs->tids[i], NULL);
    timeline_finish(rs->timeline, rs->boxes, rs->started, clock_now_ns());
    for (int i = 0; i < rs->started; i++) {
        uint64_t cpu_ns, wait_ns, wall_ns;
        engine_worker_times(rs->workers[i], &cpu_ns, &wait_ns, &wall_ns);
        double busy = wall_ns ? (double)cpu_ns / (double)wall_ns : 0.0;
        double waiting = wall_ns ? (double)wait_ns / (double)wall_ns : 0.0;
        if (busy + waiting > r->busiest_thread + r->busiest_thread_wait) {
            r->busiest_thread = busy;
            r->busiest_thread_wait = waiting;
            r->busiest_id = i;
        }
    }
    uint64_t end = measured_window_end(rs, merged, &r->stopped_by);
    r->interrupted = rs->stopped_by != 0;
    r->stop_signal = rs->stopped_by;
    r->duration_s = end > rs->shared.measure_ns ? (double)(end - rs->shared.measure_ns) / 1e9 : 0;
    /* Little's law over the span in which connections were open: from the warm-up's end to
     * the last one's end or abandonment, tail included (dividing the tail's time by the
     * planned window alone could put the mean above the peak). */
    uint64_t span_end = merged->last_finish_ns > end ? merged->last_finish_ns : end;
    double span_s = span_end > rs->shared.measure_ns
                        ? (double)(span_end - rs->shared.measure_ns) / 1e9 : 0;
    r->mean_concurrency = span_s > 0 ? (double)merged->conn_time_ns / 1e9 / span_s : 0.0;
    r->peak_in_flight = atomic_load(&rs->shared.peak_in_flight);
    r->peak_established = atomic_load(&rs->shared.peak_established);
}

static void kernel_delta(const kstats *before, const kstats *after, kstats *delta)
{
    memset(delta, 0, sizeof(*delta));
    for (int i = 0; i < KSTAT_COUNT; i++) {
        delta->present[i] = before->present[i] && after->present[i];
        if (delta->present[i])
            delta->value[i] = after->value[i] - before->value[i];
    }
}

/* Writes --json, --csv and --hgrm; the human report goes to stdout, or to stderr when the
 * JSON or CSV takes stdout. Returns 0, or -1 after logging what failed. */
static int write_outputs(const lg_report *r)
{
    const lg_config *cfg = r->cfg;
    char err[512];
    int rc = 0, data_on_stdout = (cfg->json_path && strcmp(cfg->json_path, "-") == 0) ||
                                 (cfg->csv_path && strcmp(cfg->csv_path, "-") == 0);
    report_text(data_on_stdout ? stderr : stdout, r);
    const struct {
        const char *path;
        int (*write)(FILE *, const lg_report *);
    } files[] = {{cfg->json_path, report_json}, {cfg->csv_path, report_csv}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (!files[i].path)
            continue;
        int to_stdout = strcmp(files[i].path, "-") == 0;
        FILE *f = to_stdout ? stdout : fopen(files[i].path, "we");
        if (!f || files[i].write(f, r) != 0 || (to_stdout ? fflush(f) : fclose(f)) != 0) {
            log_error("writing %s: %s", files[i].path, strerror(errno));
            rc = -1;
        }
    }
    if (cfg->hgrm_dir && report_hgrm(cfg->hgrm_dir, r, err, sizeof(err)) != 0) {
        log_error("%s", err);
        rc = -1;
    }
    return rc;
}

/* The transport the options ask for. */
static const transport *pick_transport(const lg_config *cfg)
{
    if (cfg->tls)
        return &transport_tls;
    return cfg->udp ? &transport_udp : &transport_tcp;
}

/* Resolves the target (or takes the --unix path) and --source; returns 0 or the exit status
 * to end with. */
static int prepare_target(const lg_config *cfg, lg_target *target)
{
    char err[512];
    int rc = cfg->unix_path
                 ? target_set_unix(target, cfg->unix_path, err, sizeof(err))
                 : target_resolve(target, cfg->target, pick_transport(cfg)->socktype, err,
                                  sizeof(err));
    if (rc != 0) {
        log_error("%s", err);
        return 1;
    }
    if (cfg->sources && (target_set_sources(target, cfg->sources, err, sizeof(err)) != 0 ||
                         target_shard_sources(target, &cfg->shard, err, sizeof(err)) != 0)) {
        log_error("%s (try 'loadgen --help')", err);
        return 2;
    }
    target_preflight(target, cfg->connections, cfg->threads);
    return 0;
}

/* The most frequent error cause, for the abort message. */
static const char *first_error_name(const lg_stats *s)
{
    int top = 0;
    for (int e = 1; e < LG_ERR_COUNT; e++)
        if (s->errors[e] > s->errors[top])
            top = e;
    return lg_stats_error_names[top];
}

/* The host name and the wall-clock time of the warm-up's end, for the JSON. */
static void describe_start(lg_report *r, uint64_t measure_ns, uint64_t *unix_ns)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t now_mono = clock_now_ns();
    uint64_t now_unix = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec;
    *unix_ns = now_unix + measure_ns - now_mono; /* measure_ns is at or after now_mono */
    r->start_unix_ns = *unix_ns;
    time_t secs = (time_t)(*unix_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        snprintf(r->start_time, sizeof(r->start_time), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(*unix_ns / 1000000u % 1000u));
    if (gethostname(r->host, sizeof(r->host)) != 0)
        snprintf(r->host, sizeof(r->host), "unknown");
    r->host[sizeof(r->host) - 1] = '\0';
}

/* The timeline of this run, its files open; 0, or -1 after logging why. */
static int start_timeline(run_state *rs, lg_report *r, lg_stats *merged)
{
    char err[TIMELINE_ERRLEN];
    int applies[LG_PHASE_COUNT];
    timeline_clock clk = {.measure_ns = rs->shared.measure_ns,
                          .interval_ns = (uint64_t)rs->cfg->interval_us * 1000u};
    describe_start(r, rs->shared.measure_ns, &clk.measure_unix_ns);
    for (int p = 0; p < LG_PHASE_COUNT; p++)
        applies[p] = report_phase_applies(r, p);
    rs->timeline = timeline_create(rs->cfg, &clk, applies, merged, err, sizeof(err));
    if (!rs->timeline) {
        log_error("%s", err);
        return -1;
    }
    r->timeline = rs->timeline;
    return 0;
}

static void cleanup(run_state *rs, lg_target *target, lg_stats *merged)
{
    timeline_destroy(rs->timeline);
    for (int i = 0; rs->workers && i < rs->cfg->threads; i++)
        engine_worker_destroy(rs->workers[i]);
    free(rs->workers);
    free(rs->boxes);
    free(rs->tids);
    lg_stats_destroy(merged);
    target_free(target);
}

/* --start-at: waits for the fleet's common instant; 0, or -1 after saying why not. */
static int wait_for_start(const lg_config *cfg)
{
    char err[512], label[64] = "";
    if (cfg->shard.count > 1)
        snprintf(label, sizeof(label), "shard %ld/%ld: ", cfg->shard.index, cfg->shard.count);
    if (start_at_wait(cfg->start_at_ns, label, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

int run_loadgen(const lg_config *cfg)
{
    lg_target target;
    lg_stats merged;
    run_state rs = {.cfg = cfg};
    lg_report report = {.cfg = cfg, .target = &target, .stats = &merged, .threads = cfg->threads};
    kstats kernel_before, kernel_after;
    struct rusage ru0, ru1;
    char err[512];
    int status = prepare_target(cfg, &target);
    if (status != 0)
        return status;
    if (lg_stats_init(&merged) != 0) {
        log_error("out of memory");
        target_free(&target);
        return 1;
    }
    if (cfg->start_at_ns && wait_for_start(cfg) != 0) {
        cleanup(&rs, &target, &merged);
        return 2;
    }
    rs.shared = (engine_shared){.cfg = cfg, .target = &target, .transport = pick_transport(cfg)};
    atomic_init(&rs.shared.stop_ns, UINT64_MAX);
    report.transport = rs.shared.transport;
    kstats_read(&kernel_before);
    getrusage(RUSAGE_SELF, &ru0);
    rs.shared.start_ns = clock_now_ns();
    rs.shared.measure_ns = rs.shared.start_ns + (uint64_t)cfg->warmup_us * 1000u;
    rs.shared.end_ns = cfg->duration_us ? rs.shared.measure_ns + (uint64_t)cfg->duration_us * 1000u
                                        : UINT64_MAX;
    if (start_timeline(&rs, &report, &merged) != 0) {
        cleanup(&rs, &target, &merged);
        return 1;
    }
    if (start_workers(&rs, err, sizeof(err)) != 0) {
        log_error("%s", err);
        status = 1;
    }
    if (rs.started > 0)
        watch_workers(&rs);
    collect(&rs, &merged, &report);
    if (timeline_close(rs.timeline, err, sizeof(err)) != 0) {
        log_error("%s", err);
        status = 1;
    }
    getrusage(RUSAGE_SELF, &ru1);
    kstats_read(&kernel_after);
    kernel_delta(&kernel_before, &kernel_after, &report.kernel);
    report.cpu_user_s = timeval_s(ru1.ru_utime) - timeval_s(ru0.ru_utime);
    report.cpu_sys_s = timeval_s(ru1.ru_stime) - timeval_s(ru0.ru_stime);
    int unmet = report_judge(&report);
    if (status == 0 && write_outputs(&report) != 0)
        status = 1;
    if (rs.aborted) {
        log_error("every connection that ended in the last %.1f s failed (%s): stopped early "
                  "(--abort-after %.1fs; 0 turns this off)",
                  (double)cfg->abort_after_us / 1e6, first_error_name(&merged),
                  (double)cfg->abort_after_us / 1e6);
        status = 1;
    }
    if (status == 0 && merged.greetings == 0 && merged.requests == 0)
        status = 1; /* nothing passed (a keep-alive run's connections may be greeted in the
                     * warm-up and still pass requests) */
    if (status == 0 && unmet && cfg->shard.count > 1) /* a share cannot meet a fleet's rate */
        log_warn("shard %ld/%ld alone does not meet %d --fail-if condition%s; 'loadgen merge' "
                 "judges them on the fleet", cfg->shard.index, cfg->shard.count, unmet,
                 unmet == 1 ? "" : "s");
    else if (status == 0 && unmet) {
        log_error("%d of %d --fail-if condition%s not met", unmet, cfg->nfail_if,
                  cfg->nfail_if == 1 ? "" : "s");
        status = 3;
    }
    cleanup(&rs, &target, &merged);
    return status;
}
