/* engine_conn.h -- inside the engine: a connection slot, a worker, and what engine.c (the loop,
 * starts and ends) and exchange.c (the steps a connection runs) call of each other. Only those
 * two files include it. */
#ifndef LOADGEN_ENGINE_CONN_H
#define LOADGEN_ENGINE_CONN_H

#include <stdint.h>

#include "check.h"
#include "dialog.h"
#include "dlist.h"
#include "engine.h"
#include "schedule.h"

#define READ_BUF 16384

/*
 * Per connection: CONNECTING -> HANDSHAKE (the transport's; nothing for TCP) -> the dialog's
 * steps in order, SENDING for a send step, READING for an expect step (--send and --expect
 * are a one-send, one-expect dialog) -> back to IDLE (or BACKOFF after a local-resource
 * error). With --requests the steps from the dialog's last send run again (after WAITING for
 * their scheduled time with -R). Each step after CONNECTING re-arms the --timeout deadline. A
 * datagram "connection" is the same walk: its connect completes at once, SENDING sends the
 * request and READING takes one reply.
 */
typedef enum {
    CONN_IDLE = 0,
    CONN_BACKOFF,
    CONN_CONNECTING,
    CONN_HANDSHAKE,
    CONN_SENDING,
    CONN_READING,
    CONN_WAITING, /* --requests with -R: greeted, the next request not due yet */
} conn_state;

/* How a connection ended: a good greeting, or the cause that stopped it. */
typedef struct conn_outcome {
    int good;       /* 1: a good greeting (cause and errnum unused) */
    lg_error cause;
    int errnum;     /* the errno behind cause, 0 when none */
} conn_outcome;

static const conn_outcome greeted = {1, LG_ERR_OTHER, 0};

static inline conn_outcome failed_with(lg_error cause, int errnum)
{
    return (conn_outcome){0, cause, errnum};
}

typedef struct conn {
    transport_conn tc;
    uint8_t state;
    uint8_t counted;  /* started after the warm-up: goes into the figures */
    uint8_t awaiting; /* established, no greeting byte yet: counted in shared->established */
    uint32_t slot;
    uint64_t sched_ns, start_ns;
    uint64_t connected_ns; /* when the connect completed: the TLS handshake's start */
    uint64_t step_ns;      /* when the running expect step's wait (or the request) began */
    uint64_t due_ns;       /* --requests with -R: when the next request is due */
    uint64_t exchanges;    /* exchanges finished on this connection (the first, then requests) */
    size_t sent, got;      /* of the running send step; bytes read on the connection */
    uint8_t step;          /* the dialog step running */
    uint8_t greeted;       /* the first exchange passed: a later failure is a failed request */
    uint8_t stale;         /* the last read may have left bytes of a passed reply unread */
    check_reply reply;     /* what arrived of the running expect step */
    dl_node timer; /* in one timer list while a deadline is armed */
} conn;

struct engine_worker {
    engine_shared *sh;
    const lg_config *cfg;
    const transport *tp;
    const lg_dialog *dialog;
    void *tp_ctx;           /* the transport's per-thread context, or NULL */
    int id, threads, epfd, open_loop, use_pwait2;
    conn *conns;
    uint32_t nconns;
    uint32_t *idle;         /* stack of slots ready to start */
    uint32_t nidle;
    uint32_t never_opened;  /* closed loop: slots [never_opened, nconns) wait for the ramp */
    schedule sched;         /* open loop: the starts; closed loop: the --connect-rate ramp */
    int64_t quota;          /* counted starts left; -1 = no bound */
    long open;              /* connections open on this thread */
    long awaiting;          /* of which established, no greeting byte yet */
    uint64_t timeout_ns, drain_deadline_ns;
    size_t next_source;
    /* Deadlines only grow within each list (now + a constant; refusals are paced), so each
     * stays sorted: O(1) timers. */
    dl_list timeouts, backoffs, refusals;
    uint64_t refused_next_ns; /* the latest deadline in refusals */
    dl_list waits;          /* --requests with -R: connections waiting for their next request's
                             * due time, sorted by it (each has its own timetable) */
    uint64_t request_gap_ns; /* --requests with -R: each connection's gap between requests */
    lg_slice *slice;        /* this interval's figures, recorded without a lock */
    lg_stats *st;           /* &slice->stats */
    uint64_t slice_end_ns;  /* when the interval being recorded ends */
    uint64_t interval_ns;
    handoff box;            /* finished slices on their way to the main thread */
    int box_ready;
    uint64_t past_greetings, past_errors; /* in slices already handed over (progress line) */
    uint64_t requests_passed; /* --requests: every repeated request that passed, warm-up too */
    engine_progress progress;
    uint64_t cpu_ns, cpu_wait_ns, wall_ns;
    char buf[READ_BUF];
};

static inline uint64_t us_between(uint64_t from_ns, uint64_t to_ns)
{
    return to_ns > from_ns ? (to_ns - from_ns) / 1000 : 0;
}

/* engine.c: ends an open connection and counts how it ended (the slot is reused). */
void engine_conn_end(engine_worker *w, conn *c, uint64_t now, conn_outcome o);
/* engine.c: the connection's first exchange passed at now: counts its greeting. */
void engine_count_greeting(engine_worker *w, conn *c, uint64_t now);
/* engine.c: the first byte of the connection arrived at now. */
void engine_first_byte(engine_worker *w, conn *c, uint64_t now);

/* exchange.c: enters step c->step (SENDING or READING, its timeout armed). */
void exchange_enter_step(engine_worker *w, conn *c, uint64_t now);
/* exchange.c: starts the repeated request's steps, timed from its due time with -R. */
void exchange_start_request(engine_worker *w, conn *c, uint64_t now);
/* exchange.c: writes the rest of the running send step; 1 when c moved on. */
int exchange_send(engine_worker *w, conn *c, uint64_t now);
/* exchange.c: reads and judges until the transport would block or c leaves READING. */
void exchange_read(engine_worker *w, conn *c, uint32_t events, uint64_t now);
/* exchange.c: ends c with a failure, counting what arrived for a running expect step. */
void exchange_fail(engine_worker *w, conn *c, uint64_t now, conn_outcome o);
/* exchange.c: 1 while c may run another request (--requests left, the run not ending). */
int exchange_requests_left(const engine_worker *w, const conn *c, uint64_t now);
/* exchange.c: 1 when the running exchange goes into the figures. */
int exchange_counted(const engine_worker *w, const conn *c);
/* exchange.c: 1 when c is reading a reply with no check asked and bytes already in. */
int exchange_unchecked_reply(const engine_worker *w, const conn *c);
/* exchange.c: the cause of a failed transport step (errno's, or TLS's with its reason). */
conn_outcome exchange_failure(engine_worker *w, conn *c);

#endif
