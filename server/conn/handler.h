/* handler.h -- what the server does with one connection: greet it (or turn it away) and close. */
#ifndef GREETER_HANDLER_H
#define GREETER_HANDLER_H

#include <stddef.h>

#include "conn.h"
#include "stats.h"
#include "tls.h"
#include "admission.h"
#include "proxy_in.h"
#include "reload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of unread client input a server discards while closing gracefully, at most. */
#define HANDLER_DRAIN_LIMIT ((size_t)64 * 1024)

typedef enum { WORK_SLEEP = 0, WORK_SPIN = 1 } work_kind;

/* --access-log: the tutorial's line when a client arrives, or one line when it is done with
 * time, peer, outcome and duration (--access-log-format full). */
enum { ACCESS_LOG_OFF = 0, ACCESS_LOG_TUTORIAL = 1, ACCESS_LOG_FULL = 2 };

/* Read-only after start-up; shared by every worker. The strings are owned by the caller. */
typedef struct handler_config {
    const char *greeting;
    size_t greeting_len;
    const char *busy_message; /* sent to rejected clients; "" closes silently */
    size_t busy_message_len;
    int io_timeout_ms;  /* bound on writing the greeting and on draining before close */
    int access_log;     /* ACCESS_LOG_*: a line per client, to stdout or --access-log-file */
    unsigned work_us;   /* simulated per-connection work before the greeting */
    work_kind work;
    tls_ctx *tls;       /* non-NULL: handshake first, greet over TLS, end with close_notify */
    admission *admission; /* non-NULL: access rules or caps; connections are released here */
    reload_state *live;   /* non-NULL: greeting and TLS context come from its current
                           * generation (SIGHUP swaps it); tls then only says "use TLS" */
    proxy_config proxy;   /* --proxy-protocol, --proxy-from */
} handler_config;

/* The greeting and TLS context of the live generation in a copy of cfg, for one connection;
 * returns the generation to release (NULL when cfg has no live state: view is then *cfg). */
reload_gen *handler_view(const handler_config *cfg, handler_config *view);

/* Greets one accepted connection and closes it, counting it as greeted or failed (a failed
 * TLS handshake also counts in tls_failed). Takes ownership of conn->fd. Blocks at most
 * about work_us + 3 * io_timeout_ms (handshake, greeting, closing). */
void handler_serve(const handler_config *cfg, const conn_item *conn, server_stats *stats);

/* A TLS handshake that failed (or timed out: why says so): logs it with the peer, counts it
 * in tls_failed and failed. The caller closes the connection. */
void handler_tls_failed(const conn_item *conn, const char *why, server_stats *stats);

/* Turns one accepted connection away with the busy message, closes it, counts it rejected. */
void handler_reject(const handler_config *cfg, int fd, server_stats *stats);

/* The same for a connection the acceptor already admitted (a model with no room for it):
 * also gives its admission place back, as handler_serve would have (none for one whose PROXY
 * header is still to be read: admission has not seen it). */
void handler_turn_away(const handler_config *cfg, const conn_item *conn, server_stats *stats);

/* Does the configured simulated work (sleep or spin for work_us). */
void handler_do_work(const handler_config *cfg);

/* Prints the tutorial's access-log line for a peer, one write per line. */
void handler_log_peer(const conn_item *conn);

/* With --access-log-format full: "TIME PEER OUTCOME DURATION" for a connection done. */
void handler_log_done(const handler_config *cfg, const conn_item *conn, const char *outcome);

/* Closes a connection that brought no valid PROXY header (or came from outside --proxy-from),
 * unanswered: counted failed and proxy_failed, timed, logged (and in the access log's full
 * format with the outcome proxy_failed). It was never admitted, so holds no place. */
void handler_proxy_failed(const handler_config *h, const conn_item *conn, const char *why,
                          server_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
