/* addr.c -- host and port strings to socket addresses by the tutorial's rules, and back to text. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

int addr_parse_port(const char *port, int socktype, unsigned *out, char *err, size_t errlen)
{
    if (port == NULL || *port == '\0') {
        *out = 0;
        return 0;
    }
    if (all_digits(port)) {
        errno = 0;
        unsigned long n = strtoul(port, NULL, 10);
        if (errno != 0 || n > 65535) {
            snprintf(err, errlen, "port %s out of range (0-65535)", port);
            return -1;
        }
        *out = (unsigned)n;
        return 0;
    }
    /* A service name: ask the services database through getaddrinfo, which is thread-safe. */
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = socktype ? socktype : SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(NULL, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "unknown service '%s' (give a port number or a name from /etc/services)",
                 port);
        return -1;
    }
    *out = ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
    freeaddrinfo(res);
    return 0;
}

/* Builds a one-entry addrinfo list the caller frees with freeaddrinfo(): glibc frees the
 * whole list as one block per node, so each node here is one malloc holding its address. */
static struct addrinfo *addrinfo_single(const struct sockaddr *sa, socklen_t salen, int socktype)
{
    struct addrinfo *ai = calloc(1, sizeof(*ai) + salen);
    if (ai == NULL)
        return NULL;
    ai->ai_family = sa->sa_family;
    ai->ai_socktype = socktype;
    ai->ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
    ai->ai_addrlen = salen;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    memcpy(ai->ai_addr, sa, salen);
    return ai;
}

/* The rules that getaddrinfo does not know: empty host, <broadcast>, integer addresses.
 * Returns 1 when it produced *out, 0 when the host is for getaddrinfo, -1 on error. */
static int resolve_special(const char *host, unsigned port, const addr_hints *hints,
                           struct addrinfo **out, char *err, size_t errlen)
{
    int socktype = hints->socktype ? hints->socktype : SOCK_STREAM;
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (host == NULL || *host == '\0') {
        if (hints->family == AF_INET6) {
            struct sockaddr_in6 sin6 = {0};
            sin6.sin6_family = AF_INET6;
            sin6.sin6_port = htons((uint16_t)port);
            sin6.sin6_addr = in6addr_any;
            *out = addrinfo_single((struct sockaddr *)&sin6, sizeof(sin6), socktype);
        } else {
            sin.sin_addr.s_addr = htonl(INADDR_ANY);
            *out = addrinfo_single((struct sockaddr *)&sin, sizeof(sin), socktype);
        }
    } else if (strcmp(host, "<broadcast>") == 0) {
        sin.sin_addr.s_addr = htonl(INADDR_BROADCAST);
        *out = addrinfo_single((struct sockaddr *)&sin, sizeof(sin), socktype);
    } else if (all_digits(host)) {
        errno = 0;
        unsigned long long n = strtoull(host, NULL, 10);
        if (errno != 0 || n > 0xffffffffULL) {
            snprintf(err, errlen, "integer address %s out of range (0-4294967295)", host);
            return -1;
        }
        sin.sin_addr.s_addr = htonl((uint32_t)n);
        *out = addrinfo_single((struct sockaddr *)&sin, sizeof(sin), socktype);
    } else {
        return 0;
    }
    if (*out == NULL) {
        snprintf(err, errlen, "resolve '%s': out of memory", host ? host : "");
        return -1;
    }
    if (hints->family == AF_INET6 && (*out)->ai_family != AF_INET6) {
        freeaddrinfo(*out);
        *out = NULL;
        snprintf(err, errlen, "address '%s' is IPv4 but IPv6 was asked for", host);
        return -1;
    }
    return 1;
}

/* Moves IPv4 entries ahead of the others, keeping each family's order: the tutorial binds an
 * AF_INET socket, so "localhost" must mean 127.0.0.1 before ::1 for a listener. */
static struct addrinfo *ipv4_first(struct addrinfo *list)
{
    struct addrinfo *v4 = NULL, **v4_tail = &v4, *rest = NULL, **rest_tail = &rest;
    while (list) {
        struct addrinfo *next = list->ai_next;
        list->ai_next = NULL;
        if (list->ai_family == AF_INET) {
            *v4_tail = list;
            v4_tail = &list->ai_next;
        } else {
            *rest_tail = list;
            rest_tail = &list->ai_next;
        }
        list = next;
    }
    *v4_tail = rest;
    return v4;
}

int addr_resolve(const char *host, const char *port, const addr_hints *hints_in,
                 struct addrinfo **out, char *err, size_t errlen)
{
    addr_hints hints = hints_in ? *hints_in : (addr_hints){0};
    int socktype = hints.socktype ? hints.socktype : SOCK_STREAM;
    unsigned portnum;
    *out = NULL;
    if (addr_parse_port(port, socktype, &portnum, err, errlen) < 0)
        return -1;

    char unbracketed[ADDR_HOSTLEN];
    if (host && host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof(unbracketed)) {
            snprintf(err, errlen, "bad IPv6 address '%s' (write it as [::1])", host);
            return -1;
        }
        memcpy(unbracketed, host + 1, n - 2);
        unbracketed[n - 2] = '\0';
        host = unbracketed;
    }

    int special = resolve_special(host, portnum, &hints, out, err, errlen);
    if (special != 0)
        return special < 0 ? -1 : 0;

    struct addrinfo gai_hints = {0};
    gai_hints.ai_family = hints.family;
    gai_hints.ai_socktype = socktype;
    gai_hints.ai_flags = AI_NUMERICSERV | (hints.passive ? AI_PASSIVE : 0);
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%u", portnum);
    int rc = getaddrinfo(host, portbuf, &gai_hints, out);
    if (rc != 0) {
        if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_FAIL)
            snprintf(err, errlen, "unknown host '%s' (%s)", host, gai_strerror(rc));
        else if (rc == EAI_SYSTEM)
            snprintf(err, errlen, "resolve '%s': %s", host, strerror(errno));
        else
            snprintf(err, errlen, "resolve '%s': %s", host, gai_strerror(rc));
        *out = NULL;
        return -1;
    }
    if (hints.passive)
        *out = ipv4_first(*out);
    return 0;
}

/* Copies n bytes of src into dst (size dstlen) with a NUL; -1 when it does not fit. */
static int copy_part(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (n >= dstlen)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int addr_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
               char *err, size_t errlen)
{
    const char *host_start = spec, *port_start = NULL;
    size_t host_len;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL) {
            snprintf(err, errlen, "bad address '%s': missing ']' (write [::1]:12345)", spec);
            return -1;
        }
        if (close[1] != '\0' && close[1] != ':') {
            snprintf(err, errlen, "bad address '%s': expected ':PORT' after ']'", spec);
            return -1;
        }
        host_start = spec + 1;
        host_len = (size_t)(close - host_start);
        if (close[1] == ':')
            port_start = close + 2;
    } else {
        const char *colon = strchr(spec, ':');
        if (colon && strchr(colon + 1, ':') == NULL) {
            host_len = (size_t)(colon - spec);
            port_start = colon + 1;
        } else {
            host_len = strlen(spec); /* no colon, or a bare IPv6 literal */
        }
    }
    if (port_start && *port_start == '\0') {
        snprintf(err, errlen, "bad address '%s': empty port after ':'", spec);
        return -1;
    }
    if (copy_part(host, hostlen, host_start, host_len) < 0 ||
        copy_part(port, portlen, port_start ? port_start : "", port_start ? strlen(port_start) : 0) < 0) {
        snprintf(err, errlen, "bad address '%.64s...': too long", spec);
        return -1;
    }
    return 0;
}

void addr_format_tutorial(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "('%s', %u)", ip, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "('%s', %u, %u, %u)", ip, ntohs(sin6->sin6_port),
                 ntohl(sin6->sin6_flowinfo), sin6->sin6_scope_id);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        size_t pathlen = salen > offsetof(struct sockaddr_un, sun_path)
                             ? strnlen(sun->sun_path, salen - offsetof(struct sockaddr_un, sun_path))
                             : 0;
        snprintf(buf, len, "'%.*s'", (int)pathlen, sun->sun_path);
    } else {
        snprintf(buf, len, "(family %d)", sa->sa_family);
    }
}

void addr_format_hostport(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        size_t pathlen = salen > offsetof(struct sockaddr_un, sun_path)
                             ? strnlen(sun->sun_path, salen - offsetof(struct sockaddr_un, sun_path))
                             : 0;
        snprintf(buf, len, "%.*s", (int)pathlen, sun->sun_path);
    } else {
        snprintf(buf, len, "(family %d)", sa->sa_family);
    }
}
