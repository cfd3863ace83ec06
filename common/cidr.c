/* cidr.c -- address blocks such as 10.0.0.0/8 or 2001:db8::/32, and whether an address is in one. */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void map_ipv4(const struct in_addr *in, uint8_t out[16])
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, &in->s_addr, 4);
}

int cidr_key(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        map_ipv4(&((const struct sockaddr_in *)sa)->sin_addr, out);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

/* 1 when the bits of addr beyond prefix are all zero. */
static int host_bits_clear(const uint8_t addr[16], unsigned prefix)
{
    for (unsigned bit = prefix; bit < 128; bit++)
        if (addr[bit / 8] & (0x80 >> (bit % 8)))
            return 0;
    return 1;
}

int cidr_parse(const char *text, cidr_block *out, char *err, size_t errlen)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    if (addr_len == 0 || addr_len >= sizeof(addr)) {
        snprintf(err, errlen, "bad address block '%.80s': expected ADDRESS/PREFIX such as 10.0.0.0/8", text);
        return -1;
    }
    memcpy(addr, text, addr_len);
    addr[addr_len] = '\0';
    struct in_addr v4;
    struct in6_addr v6;
    unsigned max_prefix, offset;
    if (inet_pton(AF_INET, addr, &v4) == 1) {
        map_ipv4(&v4, out->addr);
        max_prefix = 32;
        offset = 96;
    } else if (inet_pton(AF_INET6, addr, &v6) == 1) {
        memcpy(out->addr, &v6, 16);
        max_prefix = 128;
        offset = 0;
    } else {
        snprintf(err, errlen, "bad address block '%.80s': '%s' is not an IPv4 or IPv6 address", text, addr);
        return -1;
    }
    unsigned long prefix = max_prefix;
    if (slash) {
        char *end;
        prefix = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || prefix > max_prefix || slash[1] == '-' || slash[1] == '+') {
            snprintf(err, errlen, "bad address block '%.80s': the prefix must be 0 to %u", text, max_prefix);
            return -1;
        }
    }
    out->prefix = (unsigned)prefix + offset;
    if (!host_bits_clear(out->addr, out->prefix)) {
        snprintf(err, errlen, "bad address block '%.80s': bits set beyond /%lu (did you mean the network address?)",
                 text, prefix);
        return -1;
    }
    return 0;
}

int cidr_contains(const cidr_block *block, const struct sockaddr *sa)
{
    uint8_t key[16];
    if (cidr_key(sa, key) < 0)
        return 0;
    unsigned full = block->prefix / 8, rest = block->prefix % 8;
    if (memcmp(key, block->addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (key[full] & mask) == (block->addr[full] & mask);
}
