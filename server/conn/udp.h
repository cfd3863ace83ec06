/* udp.h -- the greeting over datagrams: each datagram received is answered with the greeting. */
#ifndef GREETER_UDP_H
#define GREETER_UDP_H

#include <stddef.h>

#include "server.h"

/*
 * Serves srv->listen_fd (a datagram socket) and srv->loop_fds with `threads` threads until
 * shutdown. The event model has a SO_REUSEPORT socket per loop (loop_listeners.h), dealt
 * among the threads; the other models have none, and all threads share the one socket.
 * Counting: accepted = datagrams received, greeted = replies sent, rejected = datagrams dropped
 * unanswered (larger than --udp-max; over --rate-per-ip, also counted rate_limited; too small
 * for the greeting under --udp-amplification, also counted too_small), failed = replies the
 * kernel refused, denied = datagrams the access rules refused. 0, or -1 with err.
 */
int udp_serve(server *srv, int threads, char *err, size_t errlen);

/* Receives one waiting datagram on fd (never blocks) and answers it as above, using buf (cap
 * bytes, at least --udp-max + 1) for the request. 1 when one was handled, 0 when none waited. */
int udp_answer_one(server *srv, int fd, char *buf, size_t cap);

#endif
