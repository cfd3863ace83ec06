/* waiting_room.h -- the pool's waiting room: connections that wait on their peer wait in one epoll thread, not in a worker (as in Apache's event MPM). */
#ifndef GREETER_WAITING_ROOM_H
#define GREETER_WAITING_ROOM_H

#include <stddef.h>

#include "conn.h"
#include "handler.h"
#include "queue.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A worker serves a connection (waiting_room_serve) until it would have to wait for the
 * peer: for the next bytes of a TLS handshake, for room to write a greeting that did not fit
 * the socket buffer, or for the peer's side of a lingering close. Then it arms the connection
 * in the room's epoll set itself, and the room's thread waits for all of them at once, each
 * wait bounded by --io-timeout from the start of its phase. The room writes the rest of a
 * plain greeting, drains closes (lazily: when it wakes anyway, at least every few ms) and
 * takes the light TLS steps (tls_handshake_rest_is_light: once the server's Finished is out)
 * itself, within a budget per round; a TLS step that costs CPU (the key exchange) goes back
 * to a worker through the pool's queue (as a conn_item whose resume is set). A bare greeting
 * that fits the socket buffer never reaches the room: the worker writes it at once.
 * Counting is the handler's: greeted, failed, tls_failed; the admission slot is released when
 * the connection closes (or when waiting_room_reclaim takes it over).
 */
typedef struct waiting_room waiting_room;

/* Starts the room's thread. It hands TLS work back through queue (not owned); once the queue
 * is closed it does that work itself, so that a drain finishes everything parked. Returns
 * the room (freed by waiting_room_stop), or NULL with err. */
waiting_room *waiting_room_start(const handler_config *handler, server_stats *stats,
                                 conn_queue *queue, char *err, size_t errlen);

/* In a worker: serves one connection from the queue, fresh from the accept thread or back
 * from the room, until it is closed or has to wait on its peer (then the room takes it).
 * Takes ownership of item->fd (and of item->resume). Never waits on the peer. */
void waiting_room_serve(waiting_room *room, const conn_item *item);

/* 1 when serving item (waiting_room_serve) takes no more than a few system calls that never
 * wait: a plain greeting with no --work-us, no access-log line and no PROXY header to read.
 * The pool's accept thread serves such a connection itself while every worker sleeps. */
int waiting_room_is_instant(const waiting_room *room, const conn_item *item);

/* In the accept thread, when a new connection from peer finds a cap (--max-conns,
 * --max-per-ip) reached: the caps count every descriptor held for a client, and a lingering
 * close (the greeting is out; the room waits for the client's side) is the one kind that
 * gives its place up. Takes the place of the oldest such connection of peer's address, else
 * (when the address is below its own cap) of any address, and has the room close it within
 * its round. 1 when a place was freed (admit again), 0 when none lingers. */
int waiting_room_reclaim(waiting_room *room, const struct sockaddr *peer);

/* After the workers are joined: waits until every connection in the room is done (each
 * within --io-timeout), stops its thread and frees the room. NULL is fine. */
void waiting_room_stop(waiting_room *room);

#ifdef __cplusplus
}
#endif
#endif
