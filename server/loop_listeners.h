/* loop_listeners.h -- the event model's further SO_REUSEPORT listeners, one per loop beside
 * each stream listener: opened at start, or taken over from the previous process of an
 * upgrade and handed on to the next, so that no listening socket closes during an upgrade. */
#ifndef GREETER_LOOP_LISTENERS_H
#define GREETER_LOOP_LISTENERS_H

#include <stddef.h>

#include "listeners.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The LISTEN_FDNAMES name an upgrading server gives each of these sockets. */
#define LOOP_LISTENERS_NAME "loop"

/* 1 when an inherited descriptor's name marks it as one of these. */
int loop_listeners_named(const char *name);

/*
 * Adds the inherited descriptor fd (named LOOP_LISTENERS_NAME) to the listener of set bound to
 * the same address, which then owns it. 0, or -1 with why (not a listening SO_REUSEPORT
 * stream, or no listener of set on its address); fd is left to the caller then.
 */
int loop_listeners_take(listener_set *set, int fd, char *why, size_t whylen);

/* Gives every TCP stream listener of set at least loops - 1 further listeners on its address
 * (the inherited ones count). 0, or -1 with err. */
int loop_listeners_open(listener_set *set, int loops, int backlog, char *err, size_t errlen);

/* Closes l's further listeners and forgets them. */
void loop_listeners_close(server_listener *l);

#ifdef __cplusplus
}
#endif
#endif
