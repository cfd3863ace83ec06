/*
 * fuzz_proxy_header.c -- the PROXY protocol header a balancer (or anyone reaching a
 * --proxy-protocol listener from a trusted address) sends: proxy_header_parse on any bytes.
 * Checks the return contract: every prefix of a header is incomplete, the header alone parses
 * to the same length, and the addresses it gives are of the family it says.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_header.h"

static void require(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proxy_header h;
    /* A copy of exactly `size` bytes, so the sanitizer sees any read past them. */
    unsigned char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    int rc = proxy_header_parse(buf, size, &h);
    require(rc > 0 || rc == PROXY_HEADER_INVALID || rc == PROXY_HEADER_INCOMPLETE);
    if (rc > 0) {
        require((size_t)rc <= size && rc <= PROXY_HEADER_MAX);
        require(h.version == 1 || h.version == 2);
        if (h.version == 1)
            require(rc <= PROXY_HEADER_V1_MAX);
        if (h.local)
            require(h.addr_len == 0);
        else
            require((h.src.ss_family == AF_INET && h.addr_len == sizeof(struct sockaddr_in)) ||
                    (h.src.ss_family == AF_INET6 && h.addr_len == sizeof(struct sockaddr_in6)));
        proxy_header again;
        require(proxy_header_parse(buf, (size_t)rc, &again) == rc);
        require(proxy_header_parse(buf, (size_t)rc - 1, &again) == PROXY_HEADER_INCOMPLETE);
    } else if (rc == PROXY_HEADER_INVALID && size > 0) {
        /* More bytes never make an invalid start valid. */
        proxy_header more;
        unsigned char *longer = malloc(size + 1);
        if (longer) {
            memcpy(longer, buf, size);
            longer[size] = '\n';
            require(proxy_header_parse(longer, size + 1, &more) == PROXY_HEADER_INVALID);
            free(longer);
        }
    }
    free(buf);
    return 0;
}
