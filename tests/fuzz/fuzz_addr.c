/*
 * fuzz_addr.c -- the address strings users type: addr_split, addr_parse_port, addr_resolve on
 * numeric hosts only, cidr_parse/cidr_contains, parse_long and parse_duration_us.
 * addr_resolve never sees a host name here: a name would make getaddrinfo send DNS queries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "cidr.h"
#include "parse.h"

#define ERRLEN 256

static void require(int ok)
{
    if (!ok)
        abort();
}

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* 1 when addr_resolve settles host without any name lookup: the special forms (empty,
 * <broadcast>, all digits), a numeric IPv4 or IPv6 literal (bracketed or not), or a bracketed
 * form it refuses before looking anything up. */
static int resolves_without_lookup(const char *host)
{
    char inner[ADDR_HOSTLEN];
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof(inner))
            return 1;
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        host = inner;
    }
    unsigned char scratch[sizeof(struct in6_addr)];
    return host[0] == '\0' || strcmp(host, "<broadcast>") == 0 || all_digits(host) ||
           inet_pton(AF_INET, host, scratch) == 1 || inet_pton(AF_INET6, host, scratch) == 1;
}

static void check_resolve(const char *host, const char *port, unsigned selector)
{
    static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNSPEC};
    addr_hints hints = {families[selector & 3], (selector & 4) ? SOCK_DGRAM : SOCK_STREAM,
                        (selector & 8) != 0};
    struct addrinfo *list = NULL;
    char err[ERRLEN];
    err[0] = '\0';
    if (addr_resolve(host, port, &hints, &list, err, sizeof(err)) != 0) {
        require(list == NULL && err[0] != '\0');
        return;
    }
    require(list != NULL);
    for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        require(ai->ai_family == AF_INET || ai->ai_family == AF_INET6);
        require(hints.family == AF_UNSPEC || ai->ai_family == hints.family);
        require(ai->ai_addrlen == (ai->ai_family == AF_INET ? sizeof(struct sockaddr_in)
                                                            : sizeof(struct sockaddr_in6)));
        char text[ADDR_STRLEN];
        addr_format_tutorial(ai->ai_addr, ai->ai_addrlen, text, sizeof(text));
        require(memchr(text, '\0', sizeof(text)) != NULL);
        addr_format_hostport(ai->ai_addr, ai->ai_addrlen, text, sizeof(text));
        require(memchr(text, '\0', sizeof(text)) != NULL);
    }
    freeaddrinfo(list);
}

static void check_split(const char *spec, unsigned selector)
{
    char host[ADDR_HOSTLEN], port[ADDR_PORTLEN], err[ERRLEN];
    err[0] = '\0';
    if (addr_split(spec, host, sizeof(host), port, sizeof(port), err, sizeof(err)) != 0) {
        require(err[0] != '\0');
        return;
    }
    require(strlen(host) <= strlen(spec) && strlen(port) <= strlen(spec));
    unsigned number = 0;
    int socktype = (selector & 4) ? SOCK_DGRAM : SOCK_STREAM;
    /* A service name is looked up in /etc/services only: no network. */
    if (addr_parse_port(port, socktype, &number, err, sizeof(err)) == 0)
        require(number <= 65535);
    if (resolves_without_lookup(host))
        check_resolve(host, port, selector);
}

/* A block contains its own network address and its highest address, and not the address
 * just past it (the last prefix bit flipped). */
static void check_cidr(const char *text)
{
    cidr_block block;
    char err[ERRLEN];
    err[0] = '\0';
    if (cidr_parse(text, &block, err, sizeof(err)) != 0) {
        require(err[0] != '\0');
        return;
    }
    require(block.prefix <= 128);
    struct sockaddr_in6 sin6 = {0};
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, block.addr, 16);
    require(cidr_contains(&block, (struct sockaddr *)&sin6) == 1);
    for (unsigned bit = block.prefix; bit < 128; bit++)
        sin6.sin6_addr.s6_addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
    require(cidr_contains(&block, (struct sockaddr *)&sin6) == 1);
    if (block.prefix > 0) {
        unsigned bit = block.prefix - 1;
        sin6.sin6_addr.s6_addr[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        require(cidr_contains(&block, (struct sockaddr *)&sin6) == 0);
    }
    /* IPv4 blocks match plain IPv4 peers too. */
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (block.prefix >= 96 && memcmp(block.addr, mapped_prefix, 12) == 0) {
        struct sockaddr_in sin = {0};
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, block.addr + 12, 4);
        require(cidr_contains(&block, (struct sockaddr *)&sin) == 1);
    }
}

static void check_numbers(const char *text)
{
    char err[ERRLEN];
    long value;
    if (parse_long("--n", text, LONG_MIN, LONG_MAX, &value, err, sizeof(err)) == 0) {
        long bounded;
        int in_range = value >= 1 && value <= 65535;
        require((parse_long("--n", text, 1, 65535, &bounded, err, sizeof(err)) == 0) == in_range);
    }
    long long us;
    if (parse_duration_us("--d", text, "s", &us, err, sizeof(err)) == 0)
        require(us >= 0);
    if (parse_duration_us("--d", text, "ms", &us, err, sizeof(err)) == 0)
        require(us >= 0);
}

/* Input: one string (up to its first NUL). The last byte also picks the resolver hints. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* exactly sized: ASan catches a read past the NUL */
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    unsigned selector = size > 0 ? data[size - 1] : 0;
    check_split(text, selector);
    check_cidr(text);
    check_numbers(text);
    free(text);
    return 0;
}
