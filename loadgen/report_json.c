/* report_json.c -- the machine-readable report of a loadgen run (--json). */
#include "report.h"

#include <inttypes.h>

/* Writes s as a JSON string: quotes, backslashes and control characters escaped. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_phase(FILE *out, const hist *h)
{
    fprintf(out,
            "{\"count\": %" PRIu64 ", \"min\": %" PRIu64 ", \"p50\": %" PRIu64
            ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"p999\": %" PRIu64
            ", \"max\": %" PRIu64 ", \"mean\": %.1f, \"stddev\": %.1f}",
            hist_count(h), hist_min(h), hist_percentile(h, 50), hist_percentile(h, 90),
            hist_percentile(h, 99), hist_percentile(h, 99.9), hist_max(h), hist_mean(h),
            hist_stddev(h));
}

static void json_setup(FILE *out, const lg_report *r)
{
    const lg_config *cfg = r->cfg;
    fputs("{\n  \"target\": ", out);
    json_string(out, r->target->text);
    fprintf(out, ",\n  \"transport\": \"%s\"", report_transport_name(r));
    fprintf(out, ",\n  \"mode\": \"%s\",\n  \"threads\": %d,\n", cfg->rate > 0 ? "open" : "closed",
            r->threads);
    fprintf(out, "  \"connections\": %ld,\n  \"connect_rate\": %ld,\n", cfg->connections,
            cfg->connect_rate);
    fprintf(out, "  \"rate_requested\": %.3f,\n  \"poisson\": %s,\n", cfg->rate,
            cfg->poisson ? "true" : "false");
    fprintf(out, "  \"warmup_s\": %.3f,\n  \"duration_s\": %.6f,\n  \"interrupted\": %s,\n",
            (double)cfg->warmup_us / 1e6, r->duration_s, r->interrupted ? "true" : "false");
}

static void json_counts(FILE *out, const lg_report *r)
{
    const lg_stats *s = r->stats;
    fprintf(out, "  \"starts\": %" PRIu64 ",\n  \"greetings\": %" PRIu64 ",\n  \"rate\": %.3f,\n",
            s->starts, s->greetings, report_rate(r));
    fprintf(out, "  \"bytes_read\": %" PRIu64 ",\n  \"errors\": {", s->bytes_read);
    for (int e = 0; e < LG_ERR_COUNT; e++)
        fprintf(out, "\"%s\": %" PRIu64 ", ", stats_error_names[e], s->errors[e]);
    fprintf(out, "\"total\": %" PRIu64 "},\n", stats_error_total(s));
    fprintf(out, "  \"tls_handshakes\": {\"full\": %" PRIu64 ", \"resumed\": %" PRIu64 "},\n",
            s->tls_full, s->tls_resumed);
    fputs("  \"tls_reasons\": {", out);
    for (int i = 0; i < s->ntls_reasons; i++) {
        fputs(i ? ", " : "", out);
        json_string(out, s->tls_reasons[i].text);
        fprintf(out, ": %" PRIu64, s->tls_reasons[i].count);
    }
    fputs("},\n", out);
    fprintf(out, "  \"unfinished\": %" PRIu64 ",\n  \"late_starts\": %" PRIu64 ",\n",
            s->unfinished, s->late_starts);
    fprintf(out, "  \"concurrency\": {\"requested\": %ld, \"peak\": %ld, \"mean\": %.3f},\n",
            r->cfg->connections, r->peak_in_flight, r->mean_concurrency);
    fprintf(out, "  \"peak_established_not_greeted\": %ld,\n", r->peak_established);
}

static void json_latency(FILE *out, const lg_report *r)
{
    const char *sep = "";
    fputs("  \"latency_us\": {", out);
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        if (!report_phase_applies(r, p))
            continue;
        fprintf(out, "%s\n    \"%s\": ", sep, stats_phase_names[p]);
        json_phase(out, r->stats->phase[p]);
        sep = ",";
    }
    fputs("\n  },\n", out);
}

static void json_cpu_kernel(FILE *out, const lg_report *r)
{
    fprintf(out,
            "  \"cpu\": {\"user_s\": %.3f, \"sys_s\": %.3f, \"us_per_greeting\": %.3f, "
            "\"busiest_thread\": %.3f, \"busiest_thread_wait\": %.3f, \"saturated\": %s},\n",
            r->cpu_user_s, r->cpu_sys_s, report_us_per_greeting(r), r->busiest_thread,
            r->busiest_thread_wait, report_saturated(r) ? "true" : "false");
    const char *sep = "";
    fputs("  \"kernel\": {", out);
    for (int k = 0; k < KSTAT_COUNT; k++) {
        if (!r->kernel.present[k])
            continue;
        fprintf(out, "%s\"%s\": %" PRIu64, sep, kstats_name((kstat_id)k), r->kernel.value[k]);
        sep = ", ";
    }
    fputs("}\n}\n", out);
}

int report_json(FILE *out, const lg_report *r)
{
    json_setup(out, r);
    json_counts(out, r);
    json_latency(out, r);
    json_cpu_kernel(out, r);
    return ferror(out) ? -1 : 0;
}
