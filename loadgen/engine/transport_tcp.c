/* transport_tcp.c -- the plain socket transports: read(2), send(2) and close(2), nothing more.
 * The stream table serves TCP and UNIX streams, the datagram table UDP and UNIX datagrams. */
#include "transport.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static transport_result plain_handshake(void *thread_ctx, transport_conn *tc)
{
    (void)thread_ctx;
    (void)tc;
    return TRANSPORT_DONE;
}

/* A datagram socket returns one whole datagram per read (cut to len), a stream what is there. */
static transport_result plain_read(transport_conn *tc, char *buf, size_t len, size_t *n)
{
    for (;;) {
        ssize_t got = read(tc->fd, buf, len);
        if (got > 0) {
            *n = (size_t)got;
            return TRANSPORT_DONE;
        }
        if (got == 0)
            return TRANSPORT_EOF;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? TRANSPORT_AGAIN : TRANSPORT_FAILED;
    }
}

static transport_result plain_write(transport_conn *tc, const char *buf, size_t len, size_t *n)
{
    for (;;) {
        ssize_t put = send(tc->fd, buf, len, MSG_NOSIGNAL);
        if (put >= 0) {
            *n = (size_t)put;
            return TRANSPORT_DONE;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? TRANSPORT_AGAIN : TRANSPORT_FAILED;
    }
}

static void plain_close(transport_conn *tc)
{
    close(tc->fd);
    tc->fd = -1;
}

const transport transport_tcp = {
    .name = "tcp",
    .socktype = SOCK_STREAM,
    .eof_on_short_read = 1,
    .handshake = plain_handshake,
    .read = plain_read,
    .write = plain_write,
    .close = plain_close,
};

/*
 * UDP: each start gets its own connected datagram socket, sends one request and reads one
 * reply. A socket per request rather than one per thread because the greeting does not echo
 * anything of the request: with a shared socket a late reply to a timed-out request could not
 * be told from the reply to the next one. A connected socket lets the kernel do the matching
 * (only the target's address gets through) and reports an ICMP port unreachable as
 * ECONNREFUSED, which counts as refused.
 */
const transport transport_udp = {
    .name = "udp",
    .socktype = SOCK_DGRAM,
    .one_reply = 1,
    .handshake = plain_handshake,
    .read = plain_read,
    .write = plain_write,
    .close = plain_close,
};
