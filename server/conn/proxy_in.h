/* proxy_in.h -- --proxy-protocol: which balancers may speak for their clients, the PROXY
 * header read off a new connection, and the fate of a connection that has none. */
#ifndef GREETER_PROXY_IN_H
#define GREETER_PROXY_IN_H

#include <stddef.h>
#include <sys/socket.h>

#include "cidr.h"
#include "conn.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read-only after start-up. The blocks are owned by the caller. */
typedef struct proxy_config {
    int enabled;            /* every connection must begin with a PROXY v1 or v2 header */
    const cidr_block *from; /* the balancers trusted to send one (--proxy-from) */
    size_t from_count;
} proxy_config;

/* conn_item.proxy_pending: waiting for the header. */
enum { PROXY_PENDING = 1 };

/* Headers longer than this (v2 with many TLVs) are refused; balancers send some tens of
 * bytes (HAProxy, nginx, cloud balancers' own TLVs included). */
#define PROXY_IN_MAX 2048

/* 1 when peer may send a header: inside a --proxy-from block, or a UNIX socket's client
 * (the socket file's permissions say who may connect). */
int proxy_in_trusted(const proxy_config *cfg, const struct sockaddr *peer);

typedef enum {
    PROXY_IN_DONE,   /* header read (and only it); conn->peer is the client's address now */
    PROXY_IN_AGAIN,  /* not all of it is here yet: wait until fd is readable, try again */
    PROXY_IN_FAILED  /* no valid header can come: *why says what (a static string) */
} proxy_in_result;

/* Reads the header off conn->fd without waiting: peeks, and takes exactly the header's bytes
 * once they are all in, so what follows (a TLS ClientHello) stays for whoever serves it. A
 * part of it that came alone is taken out of the socket into conn->proxy_buf, so that the
 * socket is not readable again until more comes (left in, it would keep the waits for the
 * rest waking at once until the deadline). A header that carries addresses replaces
 * conn->peer; a LOCAL one (a health check) or UNKNOWN keeps the balancer's own. Clears
 * conn->proxy_pending when done; frees conn->proxy_buf when done or failed. */
proxy_in_result proxy_in_try(conn_item *conn, const char **why);

/* Frees what conn had read of its header, for a connection closed before the header was
 * whole (handler_proxy_failed and handler_turn_away call it). */
void proxy_in_discard(const conn_item *conn);

/* The blocking models: waits for the header with poll, at most timeout_ms in all (a balancer
 * sends it at once). 1 when read; 0 when it failed (why set; the caller calls
 * handler_proxy_failed). */
int proxy_in_wait(conn_item *conn, int timeout_ms, const char **why);

#ifdef __cplusplus
}
#endif
#endif
