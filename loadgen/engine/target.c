/* target.c -- where loadgen connects to and from: the resolved target and --source addresses. */
#include "target.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cidr.h"
#include "err.h"
#include "log.h"
#include "net.h"

int target_check_syntax(const char *spec, int socktype, char *err, size_t errlen)
{
    char host[ADDR_HOSTLEN], port[ADDR_PORTLEN], why[256];
    if (addr_split(spec, host, sizeof(host), port, sizeof(port), why, sizeof(why)) != 0) {
        snprintf(err, errlen, "target '%s': %s", spec, why);
        return -1;
    }
    if (port[0] == '\0' || strcmp(port, "0") == 0) {
        snprintf(err, errlen, "target '%s' needs a port (HOST:PORT)", spec);
        return -1;
    }
    unsigned number;
    if (addr_parse_port(port, socktype, &number, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "target '%s': %s", spec, why);
        return -1;
    }
    return 0;
}

int target_resolve(lg_target *t, const char *spec, int socktype, char *err, size_t errlen)
{
    char host[ADDR_HOSTLEN], port[ADDR_PORTLEN];
    struct addrinfo *list;
    addr_hints hints = {AF_UNSPEC, socktype, 0};
    memset(t, 0, sizeof(*t));
    if (addr_split(spec, host, sizeof(host), port, sizeof(port), err, errlen) != 0 ||
        addr_resolve(host, port, &hints, &list, err, errlen) != 0)
        return -1;
    const struct addrinfo *pick = list;
    if (pick == NULL) /* addr_resolve never succeeds with an empty list; be sure anyway */
        return err_fail(err, errlen, "%s: no address to connect to", spec);
    for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    }
    memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
    t->addrlen = pick->ai_addrlen;
    freeaddrinfo(list);
    addr_format_hostport((struct sockaddr *)&t->addr, t->addrlen, t->text, sizeof(t->text));
    return 0;
}

int target_set_unix(lg_target *t, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&t->addr;
    memset(t, 0, sizeof(*t));
    if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path))
        return err_fail(err, errlen, "--unix '%s': %s", path,
                    path[0] ? "too long (at most 107 bytes)" : "empty path");
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, strlen(path) + 1); /* fits: checked above */
    t->addrlen = (socklen_t)sizeof(*sun);
    snprintf(t->text, sizeof(t->text), "%s", path);
    return 0;
}

/* A zeroed slot at the end of t->sources, growing it; NULL when full or out of memory. */
static struct sockaddr_storage *new_source(lg_target *t)
{
    size_t n = t->nsources;
    if (n >= TARGET_MAX_SOURCES)
        return NULL;
    if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: the capacity is the next power of two */
        struct sockaddr_storage *grown = realloc(t->sources, (n ? 2 * n : 1) * sizeof(*grown));
        if (!grown)
            return NULL;
        t->sources = grown;
    }
    memset(&t->sources[n], 0, sizeof(t->sources[n]));
    t->nsources++;
    return &t->sources[n];
}

/* Appends the host addresses of a CIDR block inside 127.0.0.0/8 (common/cidr parses it). */
static int add_cidr(lg_target *t, const char *item, char *err, size_t errlen)
{
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char why[256];
    cidr_block block;
    if (cidr_parse(item, &block, why, sizeof(why)) != 0)
        return err_fail(err, errlen, "--source: %s", why);
    if (memcmp(block.addr, v4_mapped, sizeof(v4_mapped)) != 0 || block.addr[12] != 127 ||
        block.prefix < 96 + 16)
        return err_fail(err, errlen, "--source: '%s' is not a /16 to /32 block in 127.0.0.0/8", item);
    uint32_t first = (uint32_t)block.addr[12] << 24 | (uint32_t)block.addr[13] << 16 |
                     (uint32_t)block.addr[14] << 8 | block.addr[15];
    uint32_t size = 1u << (128 - block.prefix);
    uint32_t lo = size > 2 ? 1 : 0, hi = size > 2 ? size - 1 : size; /* skip network, broadcast */
    for (uint32_t i = lo; i < hi; i++) {
        struct sockaddr_in *sin = (struct sockaddr_in *)new_source(t);
        if (!sin)
            return err_fail(err, errlen, "--source: more than %d addresses", TARGET_MAX_SOURCES);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(first + i);
    }
    return 0;
}

/* Appends one IPv4 or IPv6 literal (brackets allowed around IPv6). */
static int add_address(lg_target *t, const char *item, char *err, size_t errlen)
{
    char text[INET6_ADDRSTRLEN + 2];
    size_t len = strlen(item);
    if (len >= 2 && item[0] == '[' && item[len - 1] == ']')
        item++, len -= 2;
    if (len >= sizeof(text))
        return err_fail(err, errlen, "--source: '%s' is not an IP address", item);
    memcpy(text, item, len);
    text[len] = '\0';
    struct sockaddr_storage *ss = new_source(t);
    if (!ss)
        return err_fail(err, errlen, "--source: more than %d addresses", TARGET_MAX_SOURCES);
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
        sin->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
        sin6->sin6_family = AF_INET6;
    else
        return err_fail(err, errlen, "--source: '%s' is not an IP address", text);
    return 0;
}

int target_set_sources(lg_target *t, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : err_fail(err, errlen, "--source: out of memory");
    for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        if (strchr(item, '/'))
            rc = add_cidr(t, item, err, errlen);
        else
            rc = add_address(t, item, err, errlen);
    }
    if (rc == 0 && t->nsources == 0)
        rc = err_fail(err, errlen, "--source: no address in '%s'", list);
    for (size_t i = 0; rc == 0 && i < t->nsources; i++)
        if (t->sources[i].ss_family != t->addr.ss_family)
            rc = err_fail(err, errlen, "--source: addresses must be %s like the target %s",
                          t->addr.ss_family == AF_INET ? "IPv4" : "IPv6", t->text);
    free(copy);
    if (rc != 0)
        target_free(t);
    return rc;
}

int target_shard_sources(lg_target *t, const shard_spec *s, char *err, size_t errlen)
{
    size_t first, len;
    if (t->nsources <= 1 || s->count == 1)
        return 0;
    if (t->nsources < (size_t)s->count)
        return err_fail(err, errlen, "--source: %zu addresses for %ld shards: give one address "
                    "shared by all, or at least one per shard", t->nsources, s->count);
    shard_slice(t->nsources, s, &first, &len);
    memmove(t->sources, t->sources + first, len * sizeof(*t->sources));
    t->nsources = len;
    return 0;
}

void target_free(lg_target *t)
{
    free(t->sources);
    t->sources = NULL;
    t->nsources = 0;
}

/* The ephemeral port range size, or 0 when it cannot be read. */
static long ephemeral_ports(long *lo, long *hi)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (!f)
        return 0;
    /* A fixed kernel format: two numbers. A mangled file gives n != 2, which is all we need. */
    int n = fscanf(f, "%ld %ld", lo, hi); // NOLINT(cert-err34-c): see above
    fclose(f);
    return n == 2 && *hi >= *lo ? *hi - *lo + 1 : 0;
}

void target_preflight(const lg_target *t, long connections, int threads)
{
    long wanted = connections + 2L * threads + 32; /* epoll, pipes, stdio, output files */
    long limit = net_raise_nofile(wanted);
    if (limit >= 0 && limit < wanted)
        log_warn("-c %ld needs about %ld descriptors but the limit is %ld: expect fd_limit "
                 "errors (raise the hard limit: ulimit -Hn)",
                 connections, wanted, limit);
    if (t->addr.ss_family == AF_UNIX)
        return; /* no ports to run out of */
    long lo = 0, hi = 0, ports = ephemeral_ports(&lo, &hi);
    long sources = t->nsources ? (long)t->nsources : 1;
    if (ports > 0 && connections > ports * sources)
        log_warn("-c %ld exceeds the %ld ephemeral ports (%ld-%ld) toward %s from %ld source "
                 "address(es): expect addr_unavail errors (use --source 127.0.0.0/24)",
                 connections, ports * sources, lo, hi, t->text, sources);
}
