/* fetch.h -- getting the greeting: read a stream to its end, or ask by datagram with retries. */
#ifndef GREETER_FETCH_H
#define GREETER_FETCH_H

#include <stdint.h>
#include <sys/socket.h>

#include "tls.h"

/* Reads fd until the server closes or deadline_ns passes, then prints what came and a
 * newline. Returns the exit status: 0, or 1 with the reason on stderr naming `where`. */
int fetch_stream(int fd, uint64_t deadline_ns, int timeout_ms, const char *where);

/* As fetch_stream, over an established TLS connection: the greeting counts only when the
 * server ends it with close_notify (an unannounced close could have cut it short). */
int fetch_tls(tls_conn *tls, uint64_t deadline_ns, const char *where);

/* Sends a request datagram to `to` (NULL: fd is connected), waits up to timeout_ms for the
 * reply, resends up to `retries` more times, prints the first reply and a newline.
 * Returns the exit status: 0, or 1 with the reason on stderr. */
int fetch_datagram(int fd, const struct sockaddr *to, socklen_t tolen, int timeout_ms, int retries,
                   const char *where);

#endif
