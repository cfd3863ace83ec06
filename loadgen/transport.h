/* transport.h -- how loadgen moves bytes on a connection: plain TCP now, TLS slots in later. */
#ifndef LOADGEN_TRANSPORT_H
#define LOADGEN_TRANSPORT_H

#include <stddef.h>

/*
 * The engine calls a connection's transport through this table only, so another transport
 * (TLS) is a new table, not an #ifdef in the event loop. Every call is non-blocking.
 */
typedef enum {
    TRANSPORT_DONE = 0,  /* finished, or *n bytes moved */
    TRANSPORT_AGAIN,     /* would block: wait for the next readiness event */
    TRANSPORT_EOF,       /* read only: the peer closed its side */
    TRANSPORT_FAILED     /* errno says why */
} transport_result;

typedef struct transport_conn {
    int fd;      /* the connected, non-blocking socket */
    void *state; /* the transport's own per-connection state (TLS session), NULL for TCP */
} transport_conn;

typedef struct transport {
    const char *name;
    /* 1 when a read shorter than asked, after EPOLLRDHUP, proves the stream is drained (true
     * for TCP; not for TLS, whose reads stop at record boundaries). Saves a read per greeting. */
    int eof_on_short_read;
    /* Runs after the TCP connect completes (a TLS handshake step); DONE when data may flow. */
    transport_result (*handshake)(transport_conn *tc);
    transport_result (*read)(transport_conn *tc, char *buf, size_t len, size_t *n);
    transport_result (*write)(transport_conn *tc, const char *buf, size_t len, size_t *n);
    /* Releases the transport's state and closes the descriptor. */
    void (*close)(transport_conn *tc);
} transport;

extern const transport transport_tcp;

#endif
