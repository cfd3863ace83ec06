/* proxy_header.h -- the PROXY protocol header (HAProxy's v1 text and v2 binary) that a load
 * balancer sends before a client's bytes: parsed from a buffer, no allocation, no I/O. */
#ifndef GREETER_PROXY_HEADER_H
#define GREETER_PROXY_HEADER_H

#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROXY_HEADER_V1_MAX 107          /* the longest v1 line, CRLF included */
#define PROXY_HEADER_V2_MIN 16           /* signature, version and command, family, length */
#define PROXY_HEADER_MAX (16 + 65535)    /* the longest v2 header */

/* What the balancer said. With `local` set (v2 LOCAL, as health checks send; v1 UNKNOWN; a v2
 * PROXY for an unspecified or UNIX family) it speaks for itself: the connection's own
 * addresses stand and src/dst are left zeroed (addr_len 0). Otherwise src is the client's
 * address and dst the one it connected to, both AF_INET or both AF_INET6, of addr_len bytes. */
typedef struct proxy_header {
    int version; /* 1 or 2 */
    int local;
    socklen_t addr_len;
    struct sockaddr_storage src;
    struct sockaddr_storage dst;
} proxy_header;

enum {
    PROXY_HEADER_INVALID = -1,    /* these bytes cannot begin a valid header: close */
    PROXY_HEADER_INCOMPLETE = -2, /* every byte so far fits a header: read more and call again */
};

/*
 * Parses the header at the start of buf[0, len). Returns its length in bytes (> 0; what
 * follows it is the client's data) with *out filled; PROXY_HEADER_INCOMPLETE; or
 * PROXY_HEADER_INVALID, as soon as the bytes given rule a valid header out (a client that is
 * not a balancer is told apart by its first byte). Reads only buf[0, len), never past it;
 * *out is written only on success. v2 TLVs after the addresses are skipped, not read.
 */
int proxy_header_parse(const unsigned char *buf, size_t len, proxy_header *out);

#ifdef __cplusplus
}
#endif
#endif
