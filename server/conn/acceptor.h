/* acceptor.h -- the accept step every blocking model shares: wait, accept, survive EMFILE, stop on request. */
#ifndef GREETER_ACCEPTOR_H
#define GREETER_ACCEPTOR_H

#include <stdint.h>

#include "handler.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct acceptor {
    int listen_fd; /* non-blocking; owned by the caller */
    int conn_flags; /* accept4 flags for new connections: SOCK_CLOEXEC, | SOCK_NONBLOCK if wanted */
    int spare_fd;  /* held in reserve so we can still accept-and-reject at the descriptor limit */
    uint64_t last_complaint_ns;
    /* The last accept found nobody waiting: the next acceptor_next waits for the listener
     * first rather than ask again (an accept4 that fails with EAGAIN costs a system call). */
    int backlog_empty;
    const handler_config *handler;
    server_stats *stats;
    /* Optional: called whenever the accept loop is about to wait for a client, and again
     * when that wait times out; returns how long the next wait may last in milliseconds (-1:
     * until a client comes). It may block: the fork model reaps children there; the pool
     * nudges its queue, and under load waits there until its queue needs more clients. */
    int (*on_idle)(void *arg);
    void *idle_arg;
    /* With --proxy-protocol: 0 (the blocking models) reads the PROXY header right after
     * accept, waiting for it at most --io-timeout, then asks admission; 1 (the pool, the event
     * model) hands the connection on with proxy_pending set and admission not asked, for
     * whoever waits on the peer there to read it (proxy_in_try) and then acceptor_admit_item. */
    int proxy_header_later;
} acceptor;

/* Does not take ownership of listen_fd; makes it non-blocking. */
void acceptor_init(acceptor *a, int listen_fd, const handler_config *handler, server_stats *stats);
void acceptor_destroy(acceptor *a);

typedef enum {
    ACCEPT_OK,        /* *out holds a connection, counted accepted and admitted */
    ACCEPT_AGAIN,     /* nobody is waiting: wait until the listener is readable */
    ACCEPT_TRANSIENT, /* nothing to serve (that client left, or admission closed it): try again */
    ACCEPT_EXHAUSTED  /* out of descriptors or memory: complained (at the descriptor limit the
                       * oldest client was turned away); rest before trying again */
} accept_result;

/* The one accept step every model shares: accept4, count, admission, errno sorted into the
 * four outcomes above. Never waits. */
accept_result acceptor_accept(acceptor *a, conn_item *out);

/*
 * Waits for the next connection and fills *out (counted as accepted). Returns 1 for a
 * connection, 0 once shutdown was asked for. Transient errors are retried; at the descriptor
 * limit the oldest waiting client is turned away with the busy message, the thread backs off
 * instead of spinning, and a warning is logged at most once a second.
 */
int acceptor_next(acceptor *a, conn_item *out);

/* Like acceptor_next, but never waits: 1 for a connection, 0 when none is waiting right now
 * (or a stop was asked, or an error wants the caller's attention: call acceptor_next). */
int acceptor_try_next(acceptor *a, conn_item *out);

/* Applies the access rules and caps to a connection just accepted (and counted): 1 when it
 * may be served; 0 when it was closed here, counted as denied or rejected. */
int acceptor_admit(acceptor *a, const conn_item *conn);

/* The same, with the handler's settings and counters given: for a connection admitted after
 * its PROXY header was read, away from the acceptor. */
int acceptor_admit_item(const handler_config *h, server_stats *stats, const conn_item *conn);

/* At the descriptor limit: frees the spare descriptor, accepts the oldest waiting client,
 * turns it away with the busy message (counted accepted and rejected), takes the spare back.
 * Also used by the event model, whose listeners are non-blocking. */
void acceptor_reject_one(acceptor *a);

/* Logs "accept: <why>: turning new clients away..." at most once a second. */
void acceptor_complain(acceptor *a, int err);

#ifdef __cplusplus
}
#endif
#endif
