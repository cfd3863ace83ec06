/* stats.h -- what one loadgen thread counted and timed, and how threads' results merge. */
#ifndef LOADGEN_STATS_H
#define LOADGEN_STATS_H

#include <stdint.h>

#include "hist.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a connection did not end in a good greeting. */
typedef enum {
    LG_ERR_REFUSED = 0,   /* ECONNREFUSED */
    LG_ERR_RESET,         /* ECONNRESET, EPIPE, ECONNABORTED */
    LG_ERR_TIMEOUT,       /* a step exceeded --timeout (or ETIMEDOUT) */
    LG_ERR_ADDR_UNAVAIL,  /* EADDRNOTAVAIL, EADDRINUSE: out of local ports or addresses */
    LG_ERR_FD_LIMIT,      /* EMFILE, ENFILE */
    LG_ERR_BAD_GREETING,  /* empty, or failed its check (--expect, --expect-re, a dialog's
                           * expect step): what arrived goes to failed_replies */
    LG_ERR_TLS_HANDSHAKE, /* the TLS handshake failed; the reason goes to tls_reasons */
    LG_ERR_TLS_STREAM,    /* TLS failed after the handshake: no close_notify before EOF, an
                           * alert, a bad record; the reason goes to tls_reasons */
    LG_ERR_OTHER,         /* anything else; the last such errno is kept */
    LG_ERR_COUNT
} lg_error;

/* Closed loop: a thread retries refused connects at most this often (per second). */
#define LG_REFUSED_RETRIES_PER_S 200

/* Latency phases, each its own histogram in microseconds. */
typedef enum {
    LG_PHASE_CONNECT = 0,           /* connect() until the socket is established */
    LG_PHASE_TLS,                   /* --tls: established until the handshake is done */
    LG_PHASE_FIRST_BYTE,            /* start until the first greeting byte */
    LG_PHASE_GREETING,              /* scheduled start until the greeting is complete */
    LG_PHASE_GREETING_UNCORRECTED,  /* open loop only: actual start until complete */
    LG_PHASE_REQUEST,               /* --requests: a repeated request sent (open loop: its
                                     * scheduled time) until its reply passed */
    LG_PHASE_EXPECT1,               /* --dialog: the previous step's end until the Nth expect
                                     * step passed; LG_DIALOG_EXPECTS of them */
    LG_PHASE_COUNT = LG_PHASE_EXPECT1 + 8

} lg_phase;

/* Expect steps of a --dialog that get a latency phase of their own (expect1..expect8). */
#define LG_DIALOG_EXPECTS (LG_PHASE_COUNT - LG_PHASE_EXPECT1)

/* Distinct texts kept per table (TLS failure reasons, replies seen); later new ones are
 * counted together under LG_REASON_OVERFLOW. */
#define LG_TLS_REASONS 16
#define LG_REASON_LEN 160
#define LG_REASON_OVERFLOW "(other reasons)"

typedef struct lg_reason {
    char text[LG_REASON_LEN]; /* e.g. "peer did not speak TLS (...)", or an escaped reply line */
    uint64_t count;
} lg_reason;

/* A bounded table of texts with counts, first seen first: one per thread, merged at the end,
 * so counting never takes a lock. */
typedef struct lg_reason_table {
    lg_reason entry[LG_TLS_REASONS];
    int n;
    int last_hit; /* the entry counted last: a run's replies are mostly one text */
} lg_reason_table;

extern const char *const lg_stats_error_names[LG_ERR_COUNT];
extern const char *const lg_stats_phase_names[LG_PHASE_COUNT];

typedef struct lg_stats {
    uint64_t starts;            /* counted connection attempts (after the warm-up) */
    uint64_t greetings;         /* counted good greetings */
    uint64_t greetings_after_window; /* of which finished after the measured window (in the
                                      * grace after -d or a stop): not in the rate */
    uint64_t errors[LG_ERR_COUNT];
    uint64_t unfinished;        /* still open (or due to start) when the run's grace ran out */
    uint64_t late_starts;       /* open loop: started more than 1 ms after their due time */
    uint64_t refused_backoffs;  /* closed loop: refused connects whose slot then waited its
                                 * turn in the thread's paced retries */
    uint64_t warmup_greetings;  /* greetings during the warm-up, not in any figure but CPU */
    uint64_t bytes_read;
    uint64_t conn_time_ns;      /* time connections were open after the warm-up, greeted or
                                 * not, ended or abandoned (Little's law) */
    uint64_t last_finish_ns;    /* CLOCK_MONOTONIC of the last such connection's end */
    int last_other_errno;       /* errno of the latest LG_ERR_OTHER, 0 if none */
    uint64_t tls_full;          /* counted handshakes that negotiated a new session */
    uint64_t tls_resumed;       /* counted handshakes that resumed a session */
    lg_reason_table tls_reasons; /* counted TLS failures by reason */
    lg_reason_table replies;     /* counted replies judged (greetings, dialog steps, requests)
                                  * by their first line, escaped; with the step for dialogs */
    lg_reason_table failed_replies; /* those of them that failed their check */
    uint64_t waited_after_reply; /* timed out with bytes in hand and no check asked: a server
                                  * that greets and waits (the report suggests --expect) */
    uint64_t requests;          /* --requests: repeated requests whose reply passed */
    uint64_t failed_requests;   /* ... that failed (bad reply, reset, timeout, EOF); the
                                 * connection then ends, counted once as greeted */
    hist *phase[LG_PHASE_COUNT];
} lg_stats;

/* Zeroes s and allocates its histograms (owned by s, freed by lg_stats_destroy). -1 on ENOMEM. */
int lg_stats_init(lg_stats *s);
void lg_stats_destroy(lg_stats *s);
/* Zeroes every figure and empties the histograms, keeping them allocated. */
void lg_stats_reset(lg_stats *s);

/* Adds src into dst: counters summed, histograms merged exactly, latest times kept. */
void lg_stats_merge(lg_stats *dst, const lg_stats *src);

uint64_t lg_stats_error_total(const lg_stats *s);

/* Adds n to text's count in t (text truncated to LG_REASON_LEN - 1); once the table is full,
 * new texts go to its last entry, renamed LG_REASON_OVERFLOW. */
void lg_stats_count_reason(lg_reason_table *t, const char *text, uint64_t n);

/* Indexes of t's entries, most counted first (ties: first seen first); returns how many
 * (at most max). */
int lg_stats_top_reasons(const lg_reason_table *t, int *index, int max);

/* Maps an errno from connect/read/write to its cause. */
lg_error lg_stats_classify_errno(int err);

#ifdef __cplusplus
}
#endif
#endif
