/* transport_tcp.c -- the plain TCP transport: read(2), send(2) and close(2), nothing more. */
#include "transport.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static transport_result tcp_handshake(transport_conn *tc)
{
    (void)tc;
    return TRANSPORT_DONE;
}

static transport_result tcp_read(transport_conn *tc, char *buf, size_t len, size_t *n)
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

static transport_result tcp_write(transport_conn *tc, const char *buf, size_t len, size_t *n)
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

static void tcp_close(transport_conn *tc)
{
    close(tc->fd);
    tc->fd = -1;
}

const transport transport_tcp = {"tcp", 1, tcp_handshake, tcp_read, tcp_write, tcp_close};
