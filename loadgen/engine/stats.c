/* stats.c -- what one loadgen thread counted and timed, and how threads' results merge. */
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const lg_stats_error_names[LG_ERR_COUNT] = {
    "refused",      "reset",         "timeout",    "addr_unavail", "fd_limit",
    "bad_greeting", "tls_handshake", "tls_stream", "other",
};

const char *const lg_stats_phase_names[LG_PHASE_COUNT] = {
    "connect", "tls", "first_byte", "greeting", "greeting_uncorrected", "request",
    "expect1", "expect2", "expect3", "expect4", "expect5", "expect6", "expect7", "expect8",
};

int lg_stats_init(lg_stats *s)
{
    memset(s, 0, sizeof(*s));
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        s->phase[p] = hist_create();
        if (!s->phase[p]) {
            lg_stats_destroy(s);
            return -1;
        }
    }
    return 0;
}

void lg_stats_destroy(lg_stats *s)
{
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        hist_destroy(s->phase[p]);
        s->phase[p] = NULL;
    }
}

void lg_stats_reset(lg_stats *s)
{
    hist *phase[LG_PHASE_COUNT];
    memcpy(phase, s->phase, sizeof(phase));
    memset(s, 0, sizeof(*s));
    memcpy(s->phase, phase, sizeof(phase));
    /* An empty histogram is already in its reset state: not writing it keeps the pages of
     * phases a run never records (most of the expect phases) from ever being touched. */
    for (int p = 0; p < LG_PHASE_COUNT; p++)
        if (hist_count(s->phase[p]))
            hist_reset(s->phase[p]);
}

static void merge_table(lg_reason_table *dst, const lg_reason_table *src)
{
    for (int i = 0; i < src->n; i++)
        lg_stats_count_reason(dst, src->entry[i].text, src->entry[i].count);
}

void lg_stats_merge(lg_stats *dst, const lg_stats *src)
{
    dst->starts += src->starts;
    dst->greetings += src->greetings;
    dst->greetings_after_window += src->greetings_after_window;
    for (int e = 0; e < LG_ERR_COUNT; e++)
        dst->errors[e] += src->errors[e];
    dst->unfinished += src->unfinished;
    dst->late_starts += src->late_starts;
    dst->refused_backoffs += src->refused_backoffs;
    dst->warmup_greetings += src->warmup_greetings;
    dst->bytes_read += src->bytes_read;
    dst->conn_time_ns += src->conn_time_ns;
    if (src->last_finish_ns > dst->last_finish_ns)
        dst->last_finish_ns = src->last_finish_ns;
    if (src->last_other_errno)
        dst->last_other_errno = src->last_other_errno;
    dst->tls_full += src->tls_full;
    dst->tls_resumed += src->tls_resumed;
    merge_table(&dst->tls_reasons, &src->tls_reasons);
    merge_table(&dst->replies, &src->replies);
    merge_table(&dst->failed_replies, &src->failed_replies);
    dst->waited_after_reply += src->waited_after_reply;
    dst->requests += src->requests;
    dst->failed_requests += src->failed_requests;
    for (int p = 0; p < LG_PHASE_COUNT; p++)
        hist_merge(dst->phase[p], src->phase[p]);
}

void lg_stats_count_reason(lg_reason_table *t, const char *text, uint64_t n)
{
    lg_reason *r = NULL;
    if (t->n > 0 && strncmp(t->entry[t->last_hit].text, text, LG_REASON_LEN - 1) == 0)
        r = &t->entry[t->last_hit];
    for (int i = 0; i < t->n && !r; i++)
        if (strncmp(t->entry[i].text, text, LG_REASON_LEN - 1) == 0)
            r = &t->entry[i];
    if (!r && t->n < LG_TLS_REASONS) {
        r = &t->entry[t->n++];
        snprintf(r->text, sizeof(r->text), "%s", text);
    }
    if (!r) { /* full: the last entry gathers every text not seen before */
        r = &t->entry[LG_TLS_REASONS - 1];
        snprintf(r->text, sizeof(r->text), "%s", LG_REASON_OVERFLOW);
    }
    t->last_hit = (int)(r - t->entry);
    r->count += n;
}

int lg_stats_top_reasons(const lg_reason_table *t, int *index, int max)
{
    int k = 0;
    for (int i = 0; i < t->n; i++) {
        /* insertion by count, stable: equal counts keep their first-seen order */
        int j = k < max ? k++ : max;
        while (j > 0 && t->entry[index[j - 1]].count < t->entry[i].count) {
            if (j < max)
                index[j] = index[j - 1];
            j--;
        }
        if (j < max)
            index[j] = i;
    }
    return k;
}

uint64_t lg_stats_error_total(const lg_stats *s)
{
    uint64_t total = 0;
    for (int e = 0; e < LG_ERR_COUNT; e++)
        total += s->errors[e];
    return total;
}

lg_error lg_stats_classify_errno(int err)
{
    switch (err) {
    case ECONNREFUSED: return LG_ERR_REFUSED;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return LG_ERR_RESET;
    case ETIMEDOUT: return LG_ERR_TIMEOUT;
    case EADDRNOTAVAIL:
    case EADDRINUSE: return LG_ERR_ADDR_UNAVAIL;
    case EMFILE:
    case ENFILE: return LG_ERR_FD_LIMIT;
    default: return LG_ERR_OTHER;
    }
}
