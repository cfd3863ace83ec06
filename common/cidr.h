/* cidr.h -- address blocks such as 10.0.0.0/8 or 2001:db8::/32, and whether an address is in one. */
#ifndef GREETER_CIDR_H
#define GREETER_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A block in IPv6 form: IPv4 blocks are stored as IPv4-mapped (::ffff:a.b.c.d, prefix + 96),
 * so one comparison serves both families and dual-stack peers match IPv4 rules. */
typedef struct cidr_block {
    uint8_t addr[16];
    unsigned prefix; /* 0..128 */
} cidr_block;

/*
 * Parses "ADDR/PREFIX" or a bare "ADDR" (a single host). Host bits beyond the prefix must be
 * zero ("10.0.0.1/8" is refused: it is almost always a typo). 0, or -1 with
 * "bad address block '...': why" in err. Allocates nothing; never reads past text's NUL.
 */
int cidr_parse(const char *text, cidr_block *out, char *err, size_t errlen);

/* 1 when the socket address (AF_INET or AF_INET6; IPv4-mapped IPv6 counts as IPv4) lies in
 * the block; 0 otherwise, including for other families. */
int cidr_contains(const cidr_block *block, const struct sockaddr *sa);

/* The address of sa in the 16-byte IPv6 form above; 0, or -1 for other families. */
int cidr_key(const struct sockaddr *sa, uint8_t out[16]);

#ifdef __cplusplus
}
#endif
#endif
