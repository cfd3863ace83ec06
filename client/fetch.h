/* fetch.h -- getting the greeting: stream it to stdout within bounds, or ask by datagram with retries. */
#ifndef GREETER_FETCH_H
#define GREETER_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tls.h"

/* The bounds on one exchange: a deadline for all of it (CLOCK_MONOTONIC; timeout_ms is the
 * same bound as the user gave it, for messages) and the most greeting bytes to take. */
typedef struct fetch_limits {
    uint64_t deadline_ns;
    int timeout_ms;
    size_t max_bytes;
} fetch_limits;

/* Reads fd until the server closes, copying the greeting to stdout as it arrives, then prints
 * a newline. Past the deadline or max_bytes it stops reading (what was printed is then
 * incomplete). Returns the exit status: 0, or 1 with the reason on stderr naming `where`. */
int fetch_stream(int fd, const fetch_limits *limits, const char *where);

/* As fetch_stream, over an established TLS connection: the greeting counts only when the
 * server ends it with close_notify (an unannounced close could have cut it short). */
int fetch_tls(tls_conn *tls, const fetch_limits *limits, const char *where);

typedef struct fetch_datagram_opts {
    int timeout_ms;      /* the wait for each reply */
    int retries;         /* requests resent when no reply comes */
    size_t max_bytes;    /* a longer reply fails */
    size_t request_size; /* the request's size (net_udp_request), at most 65535 */
} fetch_datagram_opts;

/* Sends a request datagram to `to` (NULL: fd is connected), waits up to o->timeout_ms for the
 * reply, resends up to o->retries more times, prints the first reply and a newline. A reply
 * longer than o->max_bytes fails. Returns the exit status: 0, or 1 with the reason. */
int fetch_datagram(int fd, const struct sockaddr *to, socklen_t tolen, const fetch_datagram_opts *o,
                   const char *where);

#endif
