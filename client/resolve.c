/* resolve.c -- the client's `resolve` mode: print what getaddrinfo answers, tutorial style. */
#include "resolve.h"

#include "addr.h"
#include "log.h"

#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

static const char *family_name(int family)
{
    switch (family) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
    default: return "AF_?";
    }
}

static const char *socktype_name(int socktype)
{
    switch (socktype) {
    case SOCK_STREAM: return "SOCK_STREAM";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    case SOCK_RAW: return "SOCK_RAW";
    default: return "SOCK_?";
    }
}

int resolve_print(FILE *out, const char *host, const char *service)
{
    char hostname[256] = "";
    if (gethostname(hostname, sizeof(hostname) - 1) < 0)
        strcpy(hostname, "(unknown)");
    fprintf(out, "local host name: %s\n", hostname);

    /* Unlike a connect, resolve shows every socket type and the canonical name, as the
     * tutorial's getaddrinfo(host, port) example does. The tutorial's '' is this host as a
     * server binds it: the wildcard addresses, which getaddrinfo gives for no host with
     * AI_PASSIVE (and it refuses AI_CANONNAME without a host: "Bad value for ai_flags"). */
    int this_host = host == NULL || *host == '\0';
    struct addrinfo hints = {0}, *list;
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = this_host ? AI_PASSIVE : AI_CANONNAME;
    unsigned port;
    char err[256], portbuf[16];
    if (addr_parse_port(service, SOCK_STREAM, &port, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return 1;
    }
    snprintf(portbuf, sizeof(portbuf), "%u", port);
    int rc = getaddrinfo(this_host ? NULL : host, portbuf, &hints, &list);
    if (rc != 0) {
        log_error("unknown host '%s': %s", host, gai_strerror(rc));
        return 1;
    }
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        char addr[ADDR_STRLEN];
        addr_format_tutorial(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr));
        fprintf(out, "(%s, %s, %d, '%s', %s)\n", family_name(ai->ai_family),
                socktype_name(ai->ai_socktype), ai->ai_protocol,
                ai->ai_canonname ? ai->ai_canonname : "", addr);
    }
    freeaddrinfo(list);
    return 0;
}
