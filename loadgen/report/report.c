/* report.c -- the human report of a loadgen run: throughput, latency tables, errors, CPU. */
#include "report.h"

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

int report_phase_applies(const lg_report *r, int phase)
{
    switch (phase) {
    case LG_PHASE_CONNECT: return !r->transport->one_reply;
    case LG_PHASE_TLS: return r->transport->timed_handshake;
    case LG_PHASE_GREETING_UNCORRECTED: return r->cfg->rate > 0 && r->cfg->requests == 1;
    case LG_PHASE_REQUEST: return r->cfg->requests != 1;
    default:
        if (phase >= LG_PHASE_EXPECT1)
            return r->cfg->dialog.from_file && phase - LG_PHASE_EXPECT1 < r->cfg->dialog.nexpects;
        return 1;
    }
}

const char *report_transport_name(const lg_report *r)
{
    if (r->target->addr.ss_family != AF_UNIX || r->transport->timed_handshake)
        return r->transport->name;
    return r->transport->socktype == SOCK_DGRAM ? "unix-dgram" : "unix";
}

double report_rate(const lg_report *r)
{
    uint64_t in_window = r->stats->greetings - r->stats->greetings_after_window;
    return r->duration_s > 0 ? (double)in_window / r->duration_s : 0.0;
}

double report_refused_rate(const lg_report *r)
{
    return r->duration_s > 0 ? (double)r->stats->errors[LG_ERR_REFUSED] / r->duration_s : 0.0;
}

int report_saturated(const lg_report *r)
{
    return r->busiest_thread + r->busiest_thread_wait >= REPORT_SATURATED;
}

double report_us_per_greeting(const lg_report *r)
{
    uint64_t all = r->stats->greetings + r->stats->warmup_greetings;
    return all ? (r->cpu_user_s + r->cpu_sys_s) * 1e6 / (double)all : 0.0;
}

const char *report_human_us(char *buf, size_t len, double us)
{
    if (us < 1000)
        snprintf(buf, len, "%.0fus", us);
    else if (us < 1e6)
        snprintf(buf, len, "%.2fms", us / 1e3);
    else
        snprintf(buf, len, "%.2fs", us / 1e6);
    return buf;
}

static void print_setup(FILE *out, const lg_report *r)
{
    const lg_config *cfg = r->cfg;
    fprintf(out, "target %s (%s%s), ", r->target->text, report_transport_name(r),
            cfg->default_target ? "; no target given: the default " CONFIG_DEFAULT_TARGET : "");
    if (cfg->rate > 0 && cfg->requests != 1)
        fprintf(out, "open loop: %.6g requests/s over %ld kept-alive connections", cfg->rate,
                cfg->connections);
    else if (cfg->rate > 0)
        fprintf(out, "open loop: %.6g starts/s (%s), at most %ld connections in flight", cfg->rate,
                cfg->poisson ? "poisson" : "uniform", cfg->connections);
    else
        fprintf(out, "closed loop: %ld connections", cfg->connections);
    fprintf(out, ", %d thread%s\n", r->threads, r->threads == 1 ? "" : "s");
    if (cfg->rate == 0) {
        if (cfg->connect_rate)
            fprintf(out, "ramp-up: connect rate capped at %ld/s\n", cfg->connect_rate);
        else
            fprintf(out, "ramp-up: connect rate unlimited\n");
    }
    if (r->target->nsources)
        fprintf(out, "sources: %zu local addresses\n", r->target->nsources);
    fprintf(out, "measured %.2f s", r->duration_s);
    if (cfg->warmup_us)
        fprintf(out, " after a %.2f s warm-up", (double)cfg->warmup_us / 1e6);
    fprintf(out, ", stopped by %s", r->stopped_by);
    if (strcmp(r->stopped_by, "signal") == 0)
        fprintf(out, " (interrupted by SIG%s)\n\n", sigabbrev_np(r->stop_signal));
    else if (strcmp(r->stopped_by, "abort") == 0)
        fprintf(out, " (--abort-after: every connection failed)\n\n");
    else
        fprintf(out, " (%s)\n\n", strcmp(r->stopped_by, "count") == 0 ? "-n" : "-d");
}

/* TLS handshakes, full and resumed, and the failures by reason. */
static void print_tls(FILE *out, const lg_report *r)
{
    const lg_stats *s = r->stats;
    if (!r->transport->timed_handshake)
        return;
    fprintf(out, "tls            %" PRIu64 " handshakes: %" PRIu64 " full, %" PRIu64 " resumed%s\n",
            s->tls_full + s->tls_resumed, s->tls_full, s->tls_resumed,
            r->cfg->tls_resume ? "" : " (no --tls-resume)");
    for (int i = 0; i < s->tls_reasons.n; i++)
        fprintf(out, "tls failure    %" PRIu64 " x %s\n", s->tls_reasons.entry[i].count,
                s->tls_reasons.entry[i].text);
}

static void print_counts(FILE *out, const lg_report *r)
{
    const lg_stats *s = r->stats;
    uint64_t errors = lg_stats_error_total(s);
    fprintf(out, "greetings      %" PRIu64 " (%.1f/s), %" PRIu64 " bytes read\n", s->greetings,
            report_rate(r), s->bytes_read);
    if (s->greetings_after_window)
        fprintf(out, "after window   %" PRIu64 " of them finished in the grace after the measured "
                     "window (in the latencies, not in the rate)\n",
                s->greetings_after_window);
    const char *sep = ": ";
    fprintf(out, "errors         %" PRIu64, errors);
    for (int e = 0; e < LG_ERR_COUNT; e++) {
        if (s->errors[e]) {
            fprintf(out, "%s%s %" PRIu64, sep, lg_stats_error_names[e], s->errors[e]);
            sep = ", ";
        }
    }
    if (s->errors[LG_ERR_OTHER] && s->last_other_errno)
        fprintf(out, " (last: %s)", strerror(s->last_other_errno));
    fputc('\n', out);
    if (s->refused_backoffs)
        fprintf(out, "refused        %" PRIu64 " (backed off to ~%.0f attempts/s: at most %d/s "
                     "per thread while the target refuses)\n",
                s->errors[LG_ERR_REFUSED], report_refused_rate(r), LG_REFUSED_RETRIES_PER_S);
    if (s->unfinished)
        fprintf(out, "unfinished     %" PRIu64 " (still open or not started at the end)\n",
                s->unfinished);
    print_tls(out, r);
    fprintf(out, "concurrency    %s %ld, peak %ld, mean %.1f\n",
            r->cfg->rate > 0 ? "cap" : "requested", r->cfg->connections, r->peak_in_flight,
            r->mean_concurrency);
    if (r->transport->socktype != SOCK_DGRAM) /* a datagram is never in a backlog */
        fprintf(out, "awaiting       at most %ld connections at once connected, not yet greeted "
                     "(in the server's backlog, queue or workers)\n",
                r->peak_established);
    if (r->cfg->rate > 0 && r->cfg->requests == 1)
        fprintf(out, "schedule       %" PRIu64 " starts, %" PRIu64 " late (> 1 ms behind)\n",
                s->starts, s->late_starts);
}

static void print_phase_table(FILE *out, const lg_report *r)
{
    static const double pcts[] = {50, 90, 99, 99.9};
    char buf[32];
    fprintf(out, "\n%-22s %9s %9s %9s %9s %9s %9s %9s\n", "latency", "count", "p50", "p90", "p99",
            "p99.9", "max", "mean");
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        const hist *h = r->stats->phase[p];
        if (!report_phase_applies(r, p))
            continue;
        fprintf(out, "%-22s %9" PRIu64, lg_stats_phase_names[p], hist_count(h));
        for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
            fprintf(out, " %9s", report_human_us(buf, sizeof(buf), (double)hist_percentile(h, pcts[i])));
        fprintf(out, " %9s", report_human_us(buf, sizeof(buf), (double)hist_max(h)));
        fprintf(out, " %9s\n", report_human_us(buf, sizeof(buf), hist_mean(h)));
    }
    if (r->cfg->rate > 0 && r->cfg->requests != 1)
        fputs("(request counts from each request's scheduled send)\n", out);
    else if (r->cfg->rate > 0)
        fputs("(greeting counts from the scheduled start; greeting_uncorrected from the actual "
              "one)\n",
              out);
}

/* The table ab prints: the share of greetings served within a time. */
static void print_ab_table(FILE *out, const lg_report *r)
{
    static const int pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 100};
    const hist *h = r->stats->phase[LG_PHASE_GREETING];
    if (hist_count(h) == 0)
        return;
    fputs("\nPercentage of the greetings served within a certain time (ms)\n", out);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        fprintf(out, " %4d%% %10.3f%s\n", pcts[i],
                (double)hist_percentile(h, (double)pcts[i]) / 1e3,
                pcts[i] == 100 ? " (longest greeting)" : "");
}

static void print_cpu_and_kernel(FILE *out, const lg_report *r)
{
    char per_greeting[48] = "no greetings";
    if (r->stats->greetings + r->stats->warmup_greetings)
        snprintf(per_greeting, sizeof(per_greeting), "%.2f us per greeting",
                 report_us_per_greeting(r));
    fprintf(out, "\nloadgen CPU    user %.2f s + sys %.2f s = %s; busiest thread %.0f%% busy, "
                 "%.0f%% waiting for a CPU\n",
            r->cpu_user_s, r->cpu_sys_s, per_greeting, r->busiest_thread * 100,
            r->busiest_thread_wait * 100);
    if (report_saturated(r))
        fprintf(out, "WARNING: loadgen thread %d was running or waiting to run %.0f%% of the "
                     "time: these figures may be bounded by loadgen (or by the CPUs it shares "
                     "with the server), not by the server alone\n",
                r->busiest_id, (r->busiest_thread + r->busiest_thread_wait) * 100);
    fputs("kernel         (whole machine, during the run)", out);
    for (int k = 0; k < KSTAT_COUNT; k++)
        if (r->kernel.present[k])
            fprintf(out, "%s%s %" PRIu64, k % 4 == 0 ? "\n               " : ", ",
                    kstats_name((kstat_id)k), r->kernel.value[k]);
    fputc('\n', out);
}

int report_judge(lg_report *r)
{
    int failed = 0;
    for (int i = 0; i < r->cfg->nfail_if; i++) {
        const failif_cond *c = &r->cfg->fail_if[i];
        r->fail_if_measured[i] = failif_measure(c, r->stats, report_rate(r));
        r->fail_if_pass[i] = failif_holds(c, r->fail_if_measured[i]);
        failed += !r->fail_if_pass[i];
    }
    return failed;
}

/* Each --fail-if condition, what was measured, and whether it held. */
static void print_fail_if(FILE *out, const lg_report *r)
{
    if (r->cfg->nfail_if)
        fputc('\n', out);
    for (int i = 0; i < r->cfg->nfail_if; i++) {
        const failif_cond *c = &r->cfg->fail_if[i];
        char name[64], value[32];
        const char *unit;
        failif_describe(c, name, sizeof(name), &unit);
        if (c->kind == FAILIF_LATENCY)
            report_human_us(value, sizeof(value), r->fail_if_measured[i]);
        else
            snprintf(value, sizeof(value), "%.6g%s", r->fail_if_measured[i], unit);
        fprintf(out, "fail-if        %-24s %s = %s: %s\n", c->text, name, value,
                r->fail_if_pass[i] ? "pass" : "FAILED");
    }
}

void report_text(FILE *out, const lg_report *r)
{
    print_setup(out, r);
    print_counts(out, r);
    report_text_replies(out, r);
    print_phase_table(out, r);
    print_ab_table(out, r);
    print_cpu_and_kernel(out, r);
    print_fail_if(out, r);
    fflush(out);
}
