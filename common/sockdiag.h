/* sockdiag.h -- asking the kernel (sock_diag) which sockets exist, without touching them. */
#ifndef GREETER_SOCKDIAG_H
#define GREETER_SOCKDIAG_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Whether a UNIX socket of socktype in this network namespace is bound to the file with
 * device dev and inode ino (as lstat gives them) and is serving: listening for SOCK_STREAM,
 * bound for SOCK_DGRAM. 1 yes, 0 no, -1 the kernel cannot say (no unix_diag): ask another way.
 * Unlike a probing connect, the server behind the socket sees nothing.
 */
int sockdiag_unix_bound(dev_t dev, ino_t ino, int socktype);

/*
 * How many connections wait in the accept queues of the TCP listeners (IPv4 and IPv6, every
 * member of a SO_REUSEPORT group) on port, in this network namespace: -1 when none listens
 * there, -2 when the kernel cannot say. Cheap however many connections the machine holds.
 */
int sockdiag_tcp_accept_queue(unsigned port);

/*
 * How many connections to port the kernel holds in SYN_RECV (IPv4 and IPv6): handshakes
 * under way, and a TLS listener's clients held until their first bytes (TCP_DEFER_ACCEPT).
 * -2 when the kernel cannot say.
 */
int sockdiag_tcp_handshakes(unsigned port);

#ifdef __cplusplus
}
#endif

#endif
