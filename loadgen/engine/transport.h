/* transport.h -- how loadgen moves bytes on a connection: plain stream, datagram or TLS. */
#ifndef LOADGEN_TRANSPORT_H
#define LOADGEN_TRANSPORT_H

#include <stddef.h>

#include "config.h"

/*
 * The engine calls a connection's transport through this table only, so another transport
 * is a new table, not an #ifdef in the event loop. Every call is non-blocking.
 */
typedef enum {
    TRANSPORT_DONE = 0,  /* finished, or *n bytes moved */
    TRANSPORT_AGAIN,     /* would block: wait for the next readiness event */
    TRANSPORT_EOF,       /* read only: the peer closed its side (TLS: with close_notify) */
    TRANSPORT_FAILED     /* the transport's failure() says why, or errno when it has none */
} transport_result;

typedef struct transport_conn {
    int fd;      /* the connected, non-blocking socket */
    void *state; /* the transport's own per-connection state (TLS session), NULL for plain */
} transport_conn;

typedef struct transport {
    const char *name;  /* for the report: "tcp", "udp", "tls" */
    int socktype;      /* SOCK_STREAM or SOCK_DGRAM */
    /* 1 when a read shorter than asked, after EPOLLRDHUP, proves the stream is drained (true
     * for TCP; not for TLS, whose reads stop at record boundaries). Saves a read per greeting. */
    int eof_on_short_read;
    /* 1 for datagrams: the first read is the whole reply, and there is no connect to time. */
    int one_reply;
    /* 1 when handshake() does real work, timed as the `tls` phase and counted as full or
     * resumed. */
    int timed_handshake;
    /* Per-thread context (a TLS client context), or NULL when the transport needs none:
     * thread_new returns it (NULL with "what: why" in err), thread_free releases it. */
    void *(*thread_new)(const lg_config *cfg, char *err, size_t errlen);
    void (*thread_free)(void *thread_ctx);
    /* Runs after the connect completes (a TLS handshake step); DONE when data may flow. */
    transport_result (*handshake)(void *thread_ctx, transport_conn *tc);
    transport_result (*read)(transport_conn *tc, char *buf, size_t len, size_t *n);
    transport_result (*write)(transport_conn *tc, const char *buf, size_t len, size_t *n);
    /* After FAILED: why, as one line (owned by tc or thread_ctx, valid until the next call), or
     * NULL when errno tells. NULL function: errno always tells. */
    const char *(*failure)(void *thread_ctx, const transport_conn *tc);
    /* After a timed handshake: 1 when it resumed a session. */
    int (*resumed)(const transport_conn *tc);
    /* Releases the transport's state and closes the descriptor. */
    void (*close)(transport_conn *tc);
} transport;

extern const transport transport_tcp; /* TCP and UNIX streams */
extern const transport transport_udp; /* UDP and UNIX datagrams */
extern const transport transport_tls; /* TLS over a stream (common/tls.h) */

#endif
