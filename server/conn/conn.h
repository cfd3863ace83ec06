/* conn.h -- one accepted connection, as the accept step hands it to whoever serves it. */
#ifndef GREETER_CONN_H
#define GREETER_CONN_H

#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One accepted connection on its way to the handler. Copied by value (the pool's queue holds
 * these); whoever holds it owns fd until it passes it on. */
typedef struct conn_item {
    int fd;
    socklen_t peer_len;
    struct sockaddr_storage peer;
    uint64_t accepted_ns; /* CLOCK_MONOTONIC when accept returned */
    /* Pool: the state of a connection coming back from the waiting room (waiting_room.h),
     * which owns it; NULL for a connection fresh from accept. */
    struct room_conn *resume;
    /* --proxy-protocol: nonzero while the PROXY header is still to be read, so peer is the
     * balancer's and admission has not been asked yet (proxy_in.h). */
    int proxy_pending;
    /* ... and the part of that header already taken out of the socket, or NULL (proxy_in.h). */
    struct proxy_in_buf *proxy_buf;
} conn_item;

#ifdef __cplusplus
}
#endif
#endif
