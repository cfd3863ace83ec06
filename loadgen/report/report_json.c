/* report_json.c -- the machine-readable report of a loadgen run (--json, docs/loadgen-json.md). */
#include "report.h"

#include <jansson.h>

#include "timeline.h"

/* The layout every "hist" field is encoded in, so a reader can check it before merging. */
static json_t *histogram_layout(void)
{
    return json_pack("{s:s, s:s, s:i, s:I, s:i}", "encoding",
                     "HdrHistogram V2 compressed, base64 (as in HdrHistogram interval logs)",
                     "unit", "us", "lowest", 1, "highest", (json_int_t)HIST_HIGHEST,
                     "significant_digits", HIST_SIGNIFICANT_DIGITS);
}

static void set_setup(json_t *o, const lg_report *r)
{
    const lg_config *cfg = r->cfg;
    json_object_set_new(o, "schema", json_string(REPORT_JSON_SCHEMA));
    json_object_set_new(o, "target", json_string(r->target->text));
    json_object_set_new(o, "default_target", json_boolean(cfg->default_target));
    json_object_set_new(o, "transport", json_string(report_transport_name(r)));
    json_object_set_new(o, "mode", json_string(cfg->rate > 0 ? "open" : "closed"));
    json_object_set_new(o, "threads", json_integer(r->threads));
    json_object_set_new(o, "connections", json_integer(cfg->connections));
    json_object_set_new(o, "connect_rate", json_integer(cfg->connect_rate));
    json_object_set_new(o, "rate_requested", json_real(cfg->rate));
    json_object_set_new(o, "poisson", json_boolean(cfg->poisson));
    json_object_set_new(o, "host", json_string(r->host));
    json_object_set_new(o, "shard", cfg->shard.count > 1
                                        ? json_pack("{s:I, s:I}", "index",
                                                    (json_int_t)cfg->shard.index, "count",
                                                    (json_int_t)cfg->shard.count)
                                        : json_null());
    json_object_set_new(o, "start_unix_ns", json_integer((json_int_t)r->start_unix_ns));
    json_object_set_new(o, "start_time", json_string(r->start_time));
    json_object_set_new(o, "warmup_s", json_real((double)cfg->warmup_us / 1e6));
    json_object_set_new(o, "duration_s", json_real(r->duration_s));
    json_object_set_new(o, "interval_s", json_real((double)cfg->interval_us / 1e6));
    json_object_set_new(o, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(o, "stopped_by", json_string(r->stopped_by));
}

static void set_counts(json_t *o, const lg_report *r)
{
    const lg_stats *s = r->stats;
    json_object_set_new(o, "starts", json_integer((json_int_t)s->starts));
    json_object_set_new(o, "greetings", json_integer((json_int_t)s->greetings));
    json_object_set_new(o, "greetings_after_window",
                        json_integer((json_int_t)s->greetings_after_window));
    json_object_set_new(o, "rate", json_real(report_rate(r)));
    json_object_set_new(o, "bytes_read", json_integer((json_int_t)s->bytes_read));
    json_object_set_new(o, "errors", timeline_errors_json(s));
    json_object_set_new(o, "tls_handshakes",
                        json_pack("{s:I, s:I}", "full", (json_int_t)s->tls_full, "resumed",
                                  (json_int_t)s->tls_resumed));
    json_t *reasons = json_object();
    for (int i = 0; i < s->tls_reasons.n; i++)
        json_object_set_new(reasons, s->tls_reasons.entry[i].text,
                            json_integer((json_int_t)s->tls_reasons.entry[i].count));
    json_object_set_new(o, "tls_reasons", reasons);
    json_object_set_new(o, "unfinished", json_integer((json_int_t)s->unfinished));
    json_object_set_new(o, "late_starts", json_integer((json_int_t)s->late_starts));
    json_object_set_new(o, "refused_backoffs", json_integer((json_int_t)s->refused_backoffs));
    json_object_set_new(o, "warmup_greetings", json_integer((json_int_t)s->warmup_greetings));
    json_object_set_new(o, "concurrency",
                        json_pack("{s:i, s:i, s:f}", "requested", (int)r->cfg->connections,
                                  "peak", (int)r->peak_in_flight, "mean", r->mean_concurrency));
    json_object_set_new(o, "peak_established_not_greeted", json_integer(r->peak_established));
}

static void set_latency(json_t *o, const lg_report *r)
{
    json_t *lat = json_object();
    for (int p = 0; p < LG_PHASE_COUNT; p++)
        if (report_phase_applies(r, p))
            json_object_set_new(lat, lg_stats_phase_names[p],
                                timeline_phase_json(r->stats->phase[p]));
    json_object_set_new(o, "histogram", histogram_layout());
    json_object_set_new(o, "latency_us", lat);
    json_object_set_new(o, "intervals", r->timeline ? timeline_json(r->timeline) : json_array());
}

static void set_fail_if(json_t *o, const lg_report *r)
{
    json_t *list = json_array();
    for (int i = 0; i < r->cfg->nfail_if; i++) {
        const failif_cond *c = &r->cfg->fail_if[i];
        char name[64];
        const char *unit;
        failif_describe(c, name, sizeof(name), &unit);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f, s:f, s:b}", "condition",
                                              c->text, "metric", name, "unit", unit, "measured",
                                              r->fail_if_measured[i], "limit", c->limit, "pass",
                                              r->fail_if_pass[i]));
    }
    json_object_set_new(o, "fail_if", list);
}

static void set_cpu_kernel(json_t *o, const lg_report *r)
{
    json_object_set_new(o, "cpu",
                        json_pack("{s:f, s:f, s:f, s:f, s:f, s:b}", "user_s", r->cpu_user_s,
                                  "sys_s", r->cpu_sys_s, "us_per_greeting",
                                  report_us_per_greeting(r), "busiest_thread", r->busiest_thread,
                                  "busiest_thread_wait", r->busiest_thread_wait, "saturated",
                                  report_saturated(r)));
    json_t *kernel = json_object();
    for (int k = 0; k < KSTAT_COUNT; k++)
        if (r->kernel.present[k])
            json_object_set_new(kernel, kstats_name((kstat_id)k),
                                json_integer((json_int_t)r->kernel.value[k]));
    json_object_set_new(o, "kernel", kernel);
}

/* The --stage plan (durations from the warm-up's start), so that a plot can mark the stages. */
static void set_stages(json_t *o, const lg_report *r)
{
    json_t *list = json_array();
    for (int i = 0; i < r->cfg->stages.n; i++)
        json_array_append_new(list, json_pack("{s:f, s:f}", "duration_s",
                                              (double)r->cfg->stages.list[i].duration_us / 1e6,
                                              "target", r->cfg->stages.list[i].target));
    json_object_set_new(o, "stages", list);
}

int report_json(FILE *out, const lg_report *r)
{
    json_t *o = json_object();
    if (!o)
        return -1;
    set_setup(o, r);
    set_counts(o, r);
    report_json_replies(o, r);
    set_latency(o, r);
    set_fail_if(o, r);
    set_stages(o, r);
    set_cpu_kernel(o, r);
    /* Keys in insertion order; 15 significant digits print 0.3 as 0.3 and keep every
     * measured figure. */
    int rc = json_dumpf(o, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (rc == 0)
        fputc('\n', out);
    return rc != 0 || ferror(out) ? -1 : 0;
}
