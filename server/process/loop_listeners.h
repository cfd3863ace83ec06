/* loop_listeners.h -- the event model's further SO_REUSEPORT sockets, one per loop beside each
 * TCP or UDP listener: opened at start, or taken over from the previous process of an upgrade
 * and handed on to the next, so that no listening socket closes during an upgrade. */
#ifndef GREETER_LOOP_LISTENERS_H
#define GREETER_LOOP_LISTENERS_H

#include <stddef.h>

#include "listeners.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Gives every TCP and UDP listener of set at least loops - 1 further sockets on its address
 * (the inherited ones count; backlog is for TCP's). 0, or -1 with err. */
int loop_listeners_open(listener_set *set, int loops, int backlog, char *err, size_t errlen);

/*
 * The sockets loop `index` of `loops` serves, of the listener fd and its loop_count further
 * sockets loop_fds, into out (room for (1 + loop_count) / loops + 1): dealt round robin, so
 * that every socket is served, also when an upgrade handed over more than there are loops.
 * Returns how many; *shared is set when there are fewer sockets than loops (a UNIX socket,
 * or a model without loop sockets), which then share theirs with other loops.
 */
int loop_listeners_deal(int fd, const int *loop_fds, int loop_count, int index, int loops,
                        int *out, int *shared);

#ifdef __cplusplus
}
#endif
#endif
