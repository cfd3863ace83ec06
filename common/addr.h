/* addr.h -- host and port strings to socket addresses by the tutorial's rules, and back to text. */
#ifndef GREETER_ADDR_H
#define GREETER_ADDR_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for any formatted address: a UNIX path (108) plus quotes, or an IPv6 tuple. */
#define ADDR_STRLEN 160
#define ADDR_HOSTLEN 256
#define ADDR_PORTLEN 64

/*
 * Error convention for this module: functions return 0 on success and -1 on failure,
 * and on failure write one line "what: why" into the caller's err buffer (errlen bytes).
 */

/*
 * The tutorial's host rules, applied in this order:
 *   NULL or ""     -> the any address (0.0.0.0, or :: when family is AF_INET6)
 *   "<broadcast>"  -> 255.255.255.255
 *   "[v6]"         -> the IPv6 literal inside the brackets
 *   all digits     -> an integer taken as a binary IPv4 address ("2130706433" is 127.0.0.1)
 *   anything else  -> getaddrinfo: a host name, a dotted quad or an IPv6 literal
 * Port rules: NULL or "" is 0 (let the kernel pick); all digits is a number 0..65535;
 * anything else is a service name looked up for the socket type ("www", "http").
 */
typedef struct addr_hints {
    int family;   /* AF_UNSPEC (default), AF_INET or AF_INET6 */
    int socktype; /* SOCK_STREAM (default when 0) or SOCK_DGRAM */
    int passive;  /* nonzero: addresses to bind, IPv4 answers first as the tutorial's AF_INET */
} addr_hints;

/*
 * Resolves host and port into a getaddrinfo list the caller frees with freeaddrinfo().
 * Errors name the input: "unknown service 'wwx'", "port 70000 out of range (0-65535)",
 * "unknown host 'nosuch.invalid'".
 */
int addr_resolve(const char *host, const char *port, const addr_hints *hints,
                 struct addrinfo **out, char *err, size_t errlen);

/*
 * Splits "HOST:PORT", "[V6]:PORT", "[V6]", "HOST" or a bare IPv6 literal ("::1", no port)
 * into host and port (port is "" when absent). Fails on an unclosed bracket, text after
 * "]" other than ":PORT", or parts that do not fit their buffers.
 */
int addr_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
               char *err, size_t errlen);

/* Parses a port (number or service name) into a host-order number. */
int addr_parse_port(const char *port, int socktype, unsigned *out, char *err, size_t errlen);

/*
 * The tutorial's print form of a peer: ('127.0.0.1', 48437) for IPv4,
 * ('::1', 48437, 0, 0) for IPv6 (flow info and scope id), 'PATH' for a UNIX socket.
 * Always NUL-terminates; buf should hold ADDR_STRLEN bytes.
 */
void addr_format_tutorial(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len);

/* The compact form: 127.0.0.1:48437, [::1]:48437, or the UNIX path. */
void addr_format_hostport(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
