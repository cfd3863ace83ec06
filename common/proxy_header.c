/* proxy_header.c -- the PROXY protocol header (HAProxy's v1 text and v2 binary) that a load
 * balancer sends before a client's bytes: parsed from a buffer, no allocation, no I/O. */
#include "proxy_header.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char v1_prefix[] = "PROXY ";
static const unsigned char v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                               0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { V2_CMD_LOCAL = 0x0, V2_CMD_PROXY = 0x1 };
enum { V2_AF_UNSPEC = 0x0, V2_AF_INET = 0x1, V2_AF_INET6 = 0x2, V2_AF_UNIX = 0x3 };
enum { V2_PROTO_UNSPEC = 0x0, V2_PROTO_STREAM = 0x1, V2_PROTO_DGRAM = 0x2 };
enum { V2_INET_LEN = 12, V2_INET6_LEN = 36, V2_UNIX_LEN = 216 };

/* 1 when the first min(len, n) bytes of buf match want. */
static int prefix_matches(const unsigned char *buf, size_t len, const unsigned char *want, size_t n)
{
    return memcmp(buf, want, len < n ? len : n) == 0;
}

static void mark_local(proxy_header *out, int version)
{
    memset(out, 0, sizeof(*out));
    out->version = version;
    out->local = 1;
}

/* ---- v1: "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\r\n" */

/* Takes the next token of line[*pos, end) up to a single space (or the end when last is
 * set) into tok (NUL-terminated, at most cap - 1 bytes); 0, or -1 when malformed. */
static int v1_token(const unsigned char *line, size_t end, size_t *pos, int last, char *tok,
                    size_t cap)
{
    size_t start = *pos, i = start;
    while (i < end && line[i] != ' ')
        i++;
    if (i == start || i - start >= cap || (last ? i != end : i == end))
        return -1;
    memcpy(tok, line + start, i - start);
    tok[i - start] = '\0';
    *pos = last ? i : i + 1;
    return 0;
}

/* A port: 1 to 5 decimal digits, at most 65535. */
static int v1_port(const char *text, in_port_t *out)
{
    unsigned long value = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        value = value * 10 + (unsigned long)(*c - '0');
    }
    if (strlen(text) > 5 || value > 65535)
        return -1;
    *out = htons((in_port_t)value);
    return 0;
}

/* Fills src and dst of family af from the four fields after "TCP4 " or "TCP6 ". */
static int v1_addresses(const unsigned char *line, size_t end, size_t pos, int af, proxy_header *h)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sport[8], dport[8];
    in_port_t sp, dp;
    if (v1_token(line, end, &pos, 0, src, sizeof(src)) < 0 ||
        v1_token(line, end, &pos, 0, dst, sizeof(dst)) < 0 ||
        v1_token(line, end, &pos, 0, sport, sizeof(sport)) < 0 ||
        v1_token(line, end, &pos, 1, dport, sizeof(dport)) < 0 || v1_port(sport, &sp) < 0 ||
        v1_port(dport, &dp) < 0)
        return -1;
    memset(h, 0, sizeof(*h));
    if (af == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&h->src, *d = (struct sockaddr_in *)&h->dst;
        s->sin_family = d->sin_family = AF_INET;
        s->sin_port = sp;
        d->sin_port = dp;
        h->addr_len = sizeof(*s);
        if (inet_pton(AF_INET, src, &s->sin_addr) != 1 || inet_pton(AF_INET, dst, &d->sin_addr) != 1)
            return -1;
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src, *d = (struct sockaddr_in6 *)&h->dst;
        s->sin6_family = d->sin6_family = AF_INET6;
        s->sin6_port = sp;
        d->sin6_port = dp;
        h->addr_len = sizeof(*s);
        if (inet_pton(AF_INET6, src, &s->sin6_addr) != 1 ||
            inet_pton(AF_INET6, dst, &d->sin6_addr) != 1)
            return -1;
    }
    h->version = 1;
    return 0;
}

/* The line buf[0, end) without its CRLF, known to start with "PROXY ". */
static int v1_line(const unsigned char *buf, size_t end, proxy_header *out)
{
    size_t pos = sizeof(v1_prefix) - 1;
    char proto[8];
    proxy_header h;
    /* UNKNOWN: whatever follows it up to the CRLF is to be ignored. */
    if (end - pos >= 7 && memcmp(buf + pos, "UNKNOWN", 7) == 0 && (end - pos == 7 || buf[pos + 7] == ' ')) {
        mark_local(out, 1);
        return 0;
    }
    if (v1_token(buf, end, &pos, 0, proto, sizeof(proto)) < 0)
        return -1;
    int af = strcmp(proto, "TCP4") == 0 ? AF_INET : strcmp(proto, "TCP6") == 0 ? AF_INET6 : -1;
    if (af < 0 || v1_addresses(buf, end, pos, af, &h) < 0)
        return -1;
    *out = h;
    return 0;
}

static int parse_v1(const unsigned char *buf, size_t len, proxy_header *out)
{
    if (!prefix_matches(buf, len, v1_prefix, sizeof(v1_prefix) - 1))
        return PROXY_HEADER_INVALID;
    for (size_t i = 0; i < len && i < PROXY_HEADER_V1_MAX; i++) {
        if (buf[i] == '\n')
            return PROXY_HEADER_INVALID; /* a bare LF */
        if (buf[i] == '\r') {
            if (i + 2 > PROXY_HEADER_V1_MAX)
                return PROXY_HEADER_INVALID; /* no room left for the LF */
            if (i + 1 == len)
                return PROXY_HEADER_INCOMPLETE;
            if (buf[i + 1] != '\n')
                return PROXY_HEADER_INVALID;
            return v1_line(buf, i, out) < 0 ? PROXY_HEADER_INVALID : (int)(i + 2);
        }
        if (buf[i] < 0x20 || buf[i] > 0x7e)
            return PROXY_HEADER_INVALID; /* US-ASCII text only */
    }
    return len >= PROXY_HEADER_V1_MAX ? PROXY_HEADER_INVALID : PROXY_HEADER_INCOMPLETE;
}

/* ---- v2: signature, version and command, family and transport, length, addresses, TLVs */

/* The address block of a v2 PROXY command for af, of block_len bytes (checked long enough). */
static void v2_addresses(const unsigned char *block, int af, proxy_header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = 2;
    if (af == V2_AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&h->src, *d = (struct sockaddr_in *)&h->dst;
        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, block, 4);
        memcpy(&d->sin_addr, block + 4, 4);
        memcpy(&s->sin_port, block + 8, 2);
        memcpy(&d->sin_port, block + 10, 2);
        h->addr_len = sizeof(*s);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src, *d = (struct sockaddr_in6 *)&h->dst;
        s->sin6_family = d->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, block, 16);
        memcpy(&d->sin6_addr, block + 16, 16);
        memcpy(&s->sin6_port, block + 32, 2);
        memcpy(&d->sin6_port, block + 34, 2);
        h->addr_len = sizeof(*s);
    }
}

/* The fixed part (16 bytes, signature matched): -1 when malformed, else the block's length. */
static int v2_fixed(const unsigned char *buf, int *cmd, int *af)
{
    int version = buf[12] >> 4, proto = buf[13] & 0x0f;
    *cmd = buf[12] & 0x0f;
    *af = buf[13] >> 4;
    if (version != 2 || *cmd > V2_CMD_PROXY || *af > V2_AF_UNIX || proto > V2_PROTO_DGRAM)
        return -1;
    int block_len = (buf[14] << 8) | buf[15];
    if (*cmd == V2_CMD_LOCAL)
        return block_len; /* its addresses, if any, are to be ignored */
    if (proto == V2_PROTO_DGRAM || (proto == V2_PROTO_UNSPEC && *af != V2_AF_UNSPEC))
        return -1; /* a stream server is never handed a datagram flow */
    int need = *af == V2_AF_INET ? V2_INET_LEN : *af == V2_AF_INET6 ? V2_INET6_LEN
             : *af == V2_AF_UNIX ? V2_UNIX_LEN : 0;
    return block_len < need ? -1 : block_len;
}

static int parse_v2(const unsigned char *buf, size_t len, proxy_header *out)
{
    if (!prefix_matches(buf, len, v2_signature, sizeof(v2_signature)))
        return PROXY_HEADER_INVALID;
    if (len < PROXY_HEADER_V2_MIN) {
        /* Check what has arrived of the version and family bytes too. */
        if (len > 12 && ((buf[12] >> 4) != 2 || (buf[12] & 0x0f) > V2_CMD_PROXY))
            return PROXY_HEADER_INVALID;
        if (len > 13 && ((buf[13] >> 4) > V2_AF_UNIX || (buf[13] & 0x0f) > V2_PROTO_DGRAM))
            return PROXY_HEADER_INVALID;
        return PROXY_HEADER_INCOMPLETE;
    }
    int cmd, af, block_len = v2_fixed(buf, &cmd, &af);
    if (block_len < 0)
        return PROXY_HEADER_INVALID;
    size_t total = PROXY_HEADER_V2_MIN + (size_t)block_len;
    if (len < total)
        return PROXY_HEADER_INCOMPLETE;
    if (cmd == V2_CMD_LOCAL || af == V2_AF_UNSPEC || af == V2_AF_UNIX)
        mark_local(out, 2);
    else
        v2_addresses(buf + PROXY_HEADER_V2_MIN, af, out);
    return (int)total;
}

int proxy_header_parse(const unsigned char *buf, size_t len, proxy_header *out)
{
    if (len == 0)
        return PROXY_HEADER_INCOMPLETE;
    if (buf[0] == v1_prefix[0])
        return parse_v1(buf, len, out);
    if (buf[0] == v2_signature[0])
        return parse_v2(buf, len, out);
    return PROXY_HEADER_INVALID;
}
