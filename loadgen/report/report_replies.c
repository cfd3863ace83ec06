/* report_replies.c -- what the server said: the replies seen and those that failed a check,
 * keep-alive requests, and the hint for a server that greets and waits (text and JSON). */
#include "report.h"

#include <inttypes.h>
#include <jansson.h>

/* Replies shown, most common first. */
#define REPORT_REPLIES_SHOWN 5

static uint64_t table_total(const lg_reason_table *t)
{
    uint64_t total = 0;
    for (int i = 0; i < t->n; i++)
        total += t->entry[i].count;
    return total;
}

static void print_table(FILE *out, const char *title, const lg_reason_table *t)
{
    int top[REPORT_REPLIES_SHOWN];
    int n = lg_stats_top_reasons(t, top, REPORT_REPLIES_SHOWN);
    if (n == 0)
        return;
    fprintf(out, "%-14s %" PRIu64 ", by first line (escaped), most common first%s:\n", title,
            table_total(t), t->n > n ? " (the first 5)" : "");
    for (int i = 0; i < n; i++)
        fprintf(out, "  %9" PRIu64 " x %s\n", t->entry[top[i]].count, t->entry[top[i]].text);
}

double report_request_rate(const lg_report *r)
{
    return r->duration_s > 0 ? (double)r->stats->requests / r->duration_s : 0.0;
}

static double us_per_exchange(const lg_report *r)
{
    uint64_t all = r->stats->greetings + r->stats->warmup_greetings + r->stats->requests;
    return all ? (r->cpu_user_s + r->cpu_sys_s) * 1e6 / (double)all : 0.0;
}

void report_text_replies(FILE *out, const lg_report *r)
{
    const lg_stats *s = r->stats;
    if (r->cfg->requests != 1)
        fprintf(out,
                "requests       %" PRIu64 " (%.1f/s) on kept-alive connections, %" PRIu64
                " failed; %.2f us CPU per exchange\n",
                s->requests, report_request_rate(r), s->failed_requests, us_per_exchange(r));
    print_table(out, "replies", &s->replies);
    print_table(out, "failed replies", &s->failed_replies);
    if (s->waited_after_reply)
        fprintf(out,
                "hint           %" PRIu64 " connections got a reply, then the server kept them "
                "open until --timeout:\n               a server that greets and waits (sshd, "
                "SMTP) needs --expect TEXT (or --expect-re),\n               so that a "
                "connection is done once its greeting has arrived\n",
                s->waited_after_reply);
}

static json_t *table_json(const lg_reason_table *t)
{
    int top[REPORT_REPLIES_SHOWN];
    int n = lg_stats_top_reasons(t, top, REPORT_REPLIES_SHOWN);
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        json_object_set_new(o, t->entry[top[i]].text,
                            json_integer((json_int_t)t->entry[top[i]].count));
    return o;
}

static json_t *dialog_json(const lg_dialog *d)
{
    static const char *const kinds[] = {"any", "expect", "expect-re"};
    json_t *steps = json_array();
    for (int i = 0; i < d->nsteps; i++) {
        const dialog_step *st = &d->step[i];
        char text[LG_REASON_LEN];
        if (st->kind == DIALOG_SEND)
            check_escape(st->data, st->len, text, sizeof(text));
        else
            check_escape(st->ck.text ? st->ck.text : "", st->ck.len, text, sizeof(text));
        json_array_append_new(steps, json_pack("{s:i, s:s, s:s}", "line", st->line, "step",
                                               st->kind == DIALOG_SEND ? "send"
                                                                       : kinds[st->ck.kind],
                                               "text", text));
    }
    return steps;
}

void report_json_replies(json_t *o, const lg_report *r)
{
    const lg_stats *s = r->stats;
    json_object_set_new(o, "requests_per_connection", json_integer(r->cfg->requests));
    json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
    json_object_set_new(o, "failed_requests", json_integer((json_int_t)s->failed_requests));
    json_object_set_new(o, "request_rate", json_real(report_request_rate(r)));
    json_object_set_new(o, "dialog", r->cfg->dialog.from_file ? dialog_json(&r->cfg->dialog)
                                                              : json_null());
    json_object_set_new(o, "replies", table_json(&s->replies));
    json_object_set_new(o, "failed_replies", table_json(&s->failed_replies));
    json_object_set_new(o, "waited_after_reply", json_integer((json_int_t)s->waited_after_reply));
}
