/* exchange.c -- the steps a connection runs once it is open: the dialog's sends and expects in
 * order (--send and --expect make a dialog of one send and one expect), each reply judged by
 * check.c, and with --requests the request repeated on the same connection. engine.c drives
 * it from its events and timers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "engine_conn.h"

/* 1 when the running exchange goes into the figures: the first by its connection's start, a
 * repeated request by its own (a connection opened in the warm-up has counted requests). */
int exchange_counted(const engine_worker *w, const conn *c)
{
    return c->greeted ? c->step_ns >= w->sh->measure_ns : c->counted;
}

static const dialog_step *current_step(const engine_worker *w, const conn *c)
{
    return &w->dialog->step[c->step];
}

/* An expect step waits for its line's end when anything follows it on the connection. */
static int until_line_end(const engine_worker *w, const conn *c)
{
    return c->step + 1 < w->dialog->nsteps || w->cfg->requests != 1;
}

/* Counts what arrived for the running expect step among the run's replies (and the failed
 * ones when failed), by its first line; a dialog's steps are told apart by their phase name. */
static void note_reply(engine_worker *w, conn *c, int failed)
{
    char text[LG_REASON_LEN];
    int k = 0;
    if (!exchange_counted(w, c))
        return;
    if (w->dialog->from_file && c->state == CONN_READING && !c->greeted)
        k = snprintf(text, sizeof(text), "%s: ",
                     lg_stats_phase_names[LG_PHASE_EXPECT1 + current_step(w, c)->expect_index]);
    check_describe(&c->reply, text + k, sizeof(text) - (size_t)k);
    lg_stats_count_reason(&w->st->replies, text, 1);
    if (failed)
        lg_stats_count_reason(&w->st->failed_replies, text, 1);
}

/* Ends c with a failure; what arrived for a running expect step is counted with it. */
void exchange_fail(engine_worker *w, conn *c, uint64_t now, conn_outcome o)
{
    if (c->state == CONN_READING && (o.cause == LG_ERR_BAD_GREETING || c->reply.got > 0))
        note_reply(w, c, 1);
    engine_conn_end(w, c, now, o);
}

/* 1 while c may run another request: --requests not used up, and the run not ending. */
int exchange_requests_left(const engine_worker *w, const conn *c, uint64_t now)
{
    long long n = w->cfg->requests;
    return (n == 0 || c->exchanges < (uint64_t)n) && w->drain_deadline_ns == 0 &&
           now < w->sh->end_ns;
}

/* Enters step c->step: SENDING or READING, its timeout armed. */
void exchange_enter_step(engine_worker *w, conn *c, uint64_t now)
{
    const dialog_step *st = current_step(w, c);
    c->state = st->kind == DIALOG_SEND ? CONN_SENDING : CONN_READING;
    c->sent = 0;
    check_reply_reset(&c->reply);
    if (st->kind == DIALOG_EXPECT && c->greeted == 0)
        c->step_ns = now;
    dl_append(&w->timeouts, &c->timer, now + w->timeout_ns);
}

/* Starts the repeated request's steps: timed from its due time with -R, from now without. */
void exchange_start_request(engine_worker *w, conn *c, uint64_t now)
{
    c->step_ns = w->request_gap_ns ? c->due_ns : now;
    c->due_ns += w->request_gap_ns;
    exchange_enter_step(w, c, now);
}

/* The last step passed: the exchange is done. Counts it, then ends the connection or starts
 * the next request (now, or at its due time with -R). 0 when c has ended. */
static int finish_exchange(engine_worker *w, conn *c, uint64_t now)
{
    w->requests_passed += c->greeted;
    if (c->greeted && exchange_counted(w, c)) {
        w->st->requests++;
        hist_record(w->st->phase[LG_PHASE_REQUEST], us_between(c->step_ns, now));
    }
    if (!c->greeted)
        engine_count_greeting(w, c, now);
    c->exchanges++;
    if (!exchange_requests_left(w, c, now)) {
        engine_conn_end(w, c, now, greeted);
        return 0;
    }
    c->step = (uint8_t)w->dialog->repeat_from;
    if (w->request_gap_ns && c->exchanges == 1) /* the timetable starts with the greeting */
        c->due_ns = now + (uint64_t)((double)c->slot * (double)w->request_gap_ns / w->nconns);
    if (w->request_gap_ns && c->due_ns > now) {
        c->state = CONN_WAITING;
        dl_insert_sorted(&w->waits, &c->timer, c->due_ns);
        return 0;
    }
    exchange_start_request(w, c, now);
    return 1;
}

/* The running step is done at now: on to the next one, or the exchange is done. 0 when c is
 * no longer running steps (ended, or waiting for its next request's time). */
static int finish_step(engine_worker *w, conn *c, uint64_t now)
{
    const dialog_step *st = current_step(w, c);
    if (st->kind == DIALOG_EXPECT) {
        note_reply(w, c, 0);
        if (w->dialog->from_file && !c->greeted && c->counted)
            hist_record(w->st->phase[LG_PHASE_EXPECT1 + st->expect_index],
                        us_between(c->step_ns, now));
    }
    if (c->step + 1 == w->dialog->nsteps)
        return finish_exchange(w, c, now);
    c->step++;
    exchange_enter_step(w, c, now);
    return 1;
}

/* 1 when a transport's failure text says the peer reset the connection (OpenSSL 3 reports a
 * reset through its error queue, not always through errno). */
static int says_reset(const char *why)
{
    return strstr(why, strerror(ECONNRESET)) != NULL || strstr(why, strerror(EPIPE)) != NULL;
}

/* The cause of a failed transport step: errno's class, or for TLS, tls_handshake (during the
 * handshake) or tls_stream (after it), with the reason counted by its text. A reset is a
 * reset in every phase: its reason (which names the step) is counted too. */
conn_outcome exchange_failure(engine_worker *w, conn *c)
{
    int e = errno;
    const char *why = w->tp->failure ? w->tp->failure(w->tp_ctx, &c->tc) : NULL;
    if (!why)
        return failed_with(lg_stats_classify_errno(e), e);
    if (c->counted)
        lg_stats_count_reason(&w->st->tls_reasons, why[0] ? why : "unknown failure", 1);
    if (lg_stats_classify_errno(e) == LG_ERR_RESET || says_reset(why))
        return failed_with(LG_ERR_RESET, e ? e : ECONNRESET);
    return failed_with(c->state == CONN_HANDSHAKE ? LG_ERR_TLS_HANDSHAKE : LG_ERR_TLS_STREAM, 0);
}

/* The peer closed (or a datagram's one reply is in): the running expect step passes if what
 * arrived meets its check, and the steps go on (to fail there if they need the peer). */
static void at_eof(engine_worker *w, conn *c, uint64_t now)
{
    if (check_at_eof(&current_step(w, c)->ck, &c->reply) != CHECK_PASS) {
        exchange_fail(w, c, now, failed_with(LG_ERR_BAD_GREETING, 0));
        return;
    }
    while (finish_step(w, c, now))
        if (c->state == CONN_READING) { /* nothing more will come */
            exchange_fail(w, c, now, failed_with(LG_ERR_BAD_GREETING, 0));
            return;
        } else if (c->state == CONN_SENDING) {
            engine_conn_end(w, c, now, failed_with(LG_ERR_RESET, EPIPE));
            return;
        }
}

/* Judges n bytes just read; what follows a passed reply goes to the next expect step, or is
 * dropped when a send comes first (it is the rest of the passed reply). 0 when c left the
 * READING state for good in this call (ended, waiting, or a send that would block). */
static int judge_bytes(engine_worker *w, conn *c, const char *p, size_t n, uint64_t now)
{
    while (n > 0) {
        size_t used = 0;
        check_verdict v =
            check_feed(&current_step(w, c)->ck, &c->reply, p, n, until_line_end(w, c), &used);
        if (v == CHECK_PENDING)
            return 1;
        if (v == CHECK_FAIL) {
            exchange_fail(w, c, now, failed_with(LG_ERR_BAD_GREETING, 0));
            return 0;
        }
        p += used;
        n -= used;
        if (!finish_step(w, c, now))
            return 0;
        if (c->state == CONN_SENDING) {
            /* After the send, the reply comes with a new edge: no read until then. */
            exchange_send(w, c, now);
            return 0;
        }
    }
    return 1;
}

/* Reads and judges until the transport would block or c leaves the READING state. */
void exchange_read(engine_worker *w, conn *c, uint32_t events, uint64_t now)
{
    while (c->state == CONN_READING) {
        size_t n = 0;
        transport_result r = w->tp->read(&c->tc, w->buf, sizeof(w->buf), &n);
        if (r == TRANSPORT_AGAIN)
            return;
        if (r != TRANSPORT_DONE) {
            if (r == TRANSPORT_EOF)
                at_eof(w, c, now);
            else
                exchange_fail(w, c, now, exchange_failure(w, c));
            return;
        }
        if (c->got == 0)
            engine_first_byte(w, c, now);
        c->got += n;
        w->st->bytes_read += n;
        c->stale = n == sizeof(w->buf);
        if (!judge_bytes(w, c, w->buf, n, now) || c->state != CONN_READING)
            return;
        /* A datagram is the whole reply. The peer's FIN came before this event: a short
         * read took everything left. */
        if (w->tp->one_reply ||
            (w->tp->eof_on_short_read && n < sizeof(w->buf) && (events & EPOLLRDHUP))) {
            at_eof(w, c, now);
            return;
        }
    }
}

/* Before a send that follows a reply: what is still unread of that reply is dropped, so that
 * it is not taken for the start of the next one. A short plain read proved nothing was left
 * (TLS may hold a record's rest). */
static int drop_stale(engine_worker *w, conn *c, uint64_t now)
{
    if (c->got == 0 || (!c->stale && w->tp->eof_on_short_read))
        return 1;
    c->stale = 0;
    for (;;) {
        size_t n = 0;
        transport_result r = w->tp->read(&c->tc, w->buf, sizeof(w->buf), &n);
        if (r == TRANSPORT_AGAIN)
            return 1;
        if (r != TRANSPORT_DONE) {
            engine_conn_end(w, c, now, r == TRANSPORT_EOF ? failed_with(LG_ERR_RESET, EPIPE)
                                                   : exchange_failure(w, c));
            return 0;
        }
        w->st->bytes_read += n;
    }
}

/* Writes the rest of the running send step; 1 when it is out and c moved on. */
int exchange_send(engine_worker *w, conn *c, uint64_t now)
{
    const dialog_step *st = current_step(w, c);
    if (c->sent == 0 && !drop_stale(w, c, now))
        return 0;
    while (c->sent < st->len) {
        size_t n = 0;
        transport_result r = w->tp->write(&c->tc, st->data + c->sent, st->len - c->sent, &n);
        if (r == TRANSPORT_AGAIN)
            return 0;
        if (r != TRANSPORT_DONE) {
            engine_conn_end(w, c, now, exchange_failure(w, c));
            return 0;
        }
        c->sent += n;
    }
    return finish_step(w, c, now);
}

int exchange_unchecked_reply(const engine_worker *w, const conn *c)
{
    return c->state == CONN_READING && c->reply.got > 0 && current_step(w, c)->ck.kind == CHECK_ANY;
}
