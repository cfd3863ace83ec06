/* model_iterative.c -- the tutorial's loop: accept one client, greet it, close, repeat. */
#include "acceptor.h"
#include "server.h"
#include "udp.h"

int model_iterative_run(server *srv, char *err, size_t errlen)
{
    if (srv->cfg->udp)
        return udp_serve(srv, 1, err, errlen);
    acceptor acc;
    conn_item conn;
    acceptor_init(&acc, srv->listen_fd, &srv->cfg->handler, srv->stats);
    while (acceptor_next(&acc, &conn))
        handler_serve(&srv->cfg->handler, &conn, srv->stats);
    acceptor_destroy(&acc);
    return 0;
}
