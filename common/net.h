/* net.h -- socket helpers shared by the server, the client and loadgen. */
#ifndef GREETER_NET_H
#define GREETER_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Error convention: setup calls return a descriptor or 0 on success, -1 on failure with one
 * line "what: why" in the caller's err buffer, e.g. "bind 0.0.0.0:80: Permission denied".
 * I/O calls return a net_io_result. Every descriptor is created with SOCK_CLOEXEC.
 */
#define NET_ERRLEN 256

/* Largest payload of one UDP datagram (IPv4: 65535 - 8 - 20), so the largest greeting --udp sends. */
#define NET_UDP_PAYLOAD_MAX 65507

typedef enum {
    NET_IO_DONE = 0,   /* everything asked for was transferred */
    NET_IO_AGAIN = 1,  /* would block, or the deadline passed first */
    NET_IO_FAILED = 2  /* the peer reset or another error: errno tells */
} net_io_result;

typedef struct net_listen_opts {
    int socktype;  /* SOCK_STREAM (default when 0) or SOCK_DGRAM */
    int family;    /* AF_UNSPEC (default), AF_INET or AF_INET6 */
    int backlog;   /* listen(2) backlog; 0 means SOMAXCONN */
    int reuseport; /* set SO_REUSEPORT, for one listener per event loop */
    int ipv6_only; /* 1: IPV6_V6ONLY on; 0: dual-stack (IPv4 too) on an IPv6 any address */
    int nonblock;  /* create the socket non-blocking */
} net_listen_opts;

/*
 * Binds and (for streams) listens on host:port by the tutorial's rules (addr.h), trying each
 * resolved address in turn. SO_REUSEADDR is always set. Returns the descriptor, or -1.
 * *in_use, when not NULL, is set to 1 when the failure was EADDRINUSE.
 */
int net_listen(const char *host, const char *port, const net_listen_opts *opts, int *in_use,
               char *err, size_t errlen);

/*
 * Binds (and for streams listens on) a UNIX socket at path. An existing path is removed only
 * when it is a stale socket (nothing answers a connect); any other file, or a socket a live
 * server answers on, is an error. mode (e.g. 0660) is applied unless it is -1. Returns the
 * descriptor or -1 with err. The caller removes the path when done (net_unix_cleanup).
 */
int net_listen_unix(const char *path, int socktype, int backlog, int mode, char *err,
                    size_t errlen);

/* Removes the socket file of a UNIX listener, if fd is one (leaves other paths alone). */
void net_unix_cleanup(int fd);

/* Connects to a UNIX socket; for SOCK_DGRAM the socket is auto-bound so replies can reach it.
 * timeout_ms (<= 0: no bound) bounds the connect, which waits while the server's backlog is
 * full, and every later send (SO_SNDTIMEO stays set). Returns the descriptor or -1 with err,
 * e.g. "connect /run/g.sock: timed out after 2000 ms (the server's backlog is full)". */
int net_connect_unix(const char *path, int socktype, int timeout_ms, char *err, size_t errlen);

/*
 * Connects a blocking stream (or datagram) socket to host:port, trying each address, each
 * attempt bounded by timeout_ms (<= 0: no bound). Returns the connected descriptor, or -1
 * with "connect 127.0.0.1:1: Connection refused" or "connect ...: timed out after 2000 ms".
 */
int net_connect(const char *host, const char *port, int socktype, int timeout_ms, char *err,
                size_t errlen);

/* Non-blocking connect of one address: 0 connected, 1 in progress, -1 failed (errno set). */
int net_connect_start(int fd, const struct sockaddr *sa, socklen_t salen);

/* Sets or clears O_NONBLOCK on fd: 0, or -1 with errno. */
int net_set_nonblocking(int fd, int on);

/* Raises the soft RLIMIT_NOFILE toward wanted (capped by the hard limit); returns the new soft
 * limit, or -1 on failure. */
long net_raise_nofile(long wanted);

/* The listen backlog the kernel grants for `requested`: at most net.core.somaxconn (read
 * from /proc; `requested` itself when that cannot be read). */
int net_effective_backlog(int requested);

/* Writes all of buf, blocking on poll() at most until deadline_ns (CLOCK_MONOTONIC; 0 means
 * no bound). Never raises SIGPIPE. *written gets the bytes sent even when it fails. */
net_io_result net_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ns,
                            size_t *written);

/*
 * 1 when a plain close(fd) cannot cost the peer any of our output: no unread input is
 * pending (which would make the kernel answer with a reset) and the peer has acknowledged
 * every byte we sent (so a later reset cannot destroy data still in flight). 0 otherwise.
 */
int net_close_is_safe(int fd);

/*
 * Closes a connection so that a peer that sent us bytes still reads everything we wrote:
 * unless net_close_is_safe, half-closes, then reads and discards until the peer's EOF,
 * drain_ms, or drain_limit bytes, whichever comes first, then closes.
 */
void net_close_graceful(int fd, int drain_ms, size_t drain_limit);

/* Always half-closes, then reads and discards until the peer's EOF, drain_ms or drain_limit
 * bytes, then closes: for protocols whose peer answers our end with bytes of its own (a TLS
 * close_notify), which a plain close would meet with a reset. */
void net_close_lingering(int fd, int drain_ms, size_t drain_limit);

/* A second socket of the same type on the same address as listen_fd (which must have
 * SO_REUSEPORT), for one accept queue (or datagram queue) per event loop, with listen_fd's
 * TCP_DEFER_ACCEPT. Returns the descriptor (non-blocking), or -1 with err. */
int net_listen_clone(int listen_fd, int backlog, char *err, size_t errlen);

/* On a TCP listener for a protocol whose client speaks first (TLS): the kernel hands a
 * connection to accept() only once its first bytes are in (TCP_DEFER_ACCEPT), so the server
 * is not woken for a connection it cannot serve yet. A client that stays silent is accepted
 * after about `seconds` all the same (and then times out as before). 0, or -1 with errno. */
int net_defer_accept(int fd, int seconds);

/* How greeter-client and loadgen ask for the greeting by datagram: "greeting?" followed by
 * zero bytes up to `size` (cut short when size is below 9). A greeter server answers only
 * when its greeting is at most --udp-amplification (3) times the request, so the padding
 * buys room: the default size lets a greeting of up to 1536 bytes through. */
#define NET_UDP_REQUEST_SIZE 512
void net_udp_request(char *buf, size_t size);

/* Formats the local address of fd as HOST:PORT (addr_format_hostport). */
void net_local_name(int fd, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
