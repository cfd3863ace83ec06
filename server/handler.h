/* handler.h -- what the server does with one connection: greet it (or turn it away) and close. */
#ifndef GREETER_HANDLER_H
#define GREETER_HANDLER_H

#include <stddef.h>

#include "conn.h"
#include "stats.h"
#include "tls.h"
#include "admission.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of unread client input a server discards while closing gracefully, at most. */
#define HANDLER_DRAIN_LIMIT ((size_t)64 * 1024)

typedef enum { WORK_SLEEP = 0, WORK_SPIN = 1 } work_kind;

/* Read-only after start-up; shared by every worker. The strings are owned by the caller. */
typedef struct handler_config {
    const char *greeting;
    size_t greeting_len;
    const char *busy_message; /* sent to rejected clients; "" closes silently */
    size_t busy_message_len;
    int io_timeout_ms;  /* bound on writing the greeting and on draining before close */
    int access_log;     /* print "Got connection from ('127.0.0.1', 48437)" per client */
    unsigned work_us;   /* simulated per-connection work before the greeting */
    work_kind work;
    tls_ctx *tls;       /* non-NULL: handshake first, greet over TLS, end with close_notify */
    admission *admission; /* non-NULL: access rules or caps; connections are released here */
} handler_config;

/* Greets one accepted connection and closes it, counting it as greeted or failed (a failed
 * TLS handshake also counts in tls_failed). Takes ownership of conn->fd. Blocks at most
 * about work_us + 3 * io_timeout_ms (handshake, greeting, closing). */
void handler_serve(const handler_config *cfg, const conn_item *conn, server_stats *stats);

/* A TLS handshake that failed (or timed out: why says so): logs it with the peer, counts it
 * in tls_failed and failed. The caller closes the connection. */
void handler_tls_failed(const conn_item *conn, const char *why, server_stats *stats);

/* Turns one accepted connection away with the busy message, closes it, counts it rejected. */
void handler_reject(const handler_config *cfg, int fd, server_stats *stats);

/* Does the configured simulated work (sleep or spin for work_us). */
void handler_do_work(const handler_config *cfg);

/* Prints the access-log line for a peer to stdout, one write per line. */
void handler_log_peer(const conn_item *conn);

#ifdef __cplusplus
}
#endif
#endif
