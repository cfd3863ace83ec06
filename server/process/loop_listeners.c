/* loop_listeners.c -- the event model's further SO_REUSEPORT sockets, one per loop beside each
 * TCP or UDP listener: opened at start (the ones taken over from the previous process of an
 * upgrade are already in the set, listeners.c) and dealt among the loops. An upgrade hands them
 * on to the next process, so that no listening socket closes during an upgrade.
 *
 * Why hand them on: a listening socket that closes resets the clients waiting in its accept
 * queue, and the kernel gives each socket of a SO_REUSEPORT group its share of new clients.
 * An old process that closed its own loops' sockets at the end of an upgrade reset every
 * client still queued in them. Passed to the successor, the sockets stay open in it: whatever
 * waits in them is accepted by one process or the other (nginx and Envoy pass theirs too).
 * Datagram sockets likewise: one that closes drops the datagrams queued in it unanswered. */
#include "loop_listeners.h"

#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Into hint, when l's socket belongs to another user than this process (the previous process
 * of an upgrade before it dropped root, or a service manager that runs the service as a user):
 * the kernel admits only sockets of one user to a SO_REUSEPORT group, so no further listener
 * can join it, and the way out is to run no more loops than the sockets passed. "" otherwise. */
static void other_owner(const server_listener *l, char *hint, size_t hintlen)
{
    struct stat st;
    hint[0] = '\0';
    if (fstat(l->fd, &st) == 0 && st.st_uid != geteuid())
        snprintf(hint, hintlen, " (the listener belongs to another user, and SO_REUSEPORT takes "
                 "one user's sockets only: run -w %d, the sockets passed, or let this user open "
                 "the listener)", 1 + l->loop_count);
}

int loop_listeners_open(listener_set *set, int loops, int backlog, char *err, size_t errlen)
{
    for (int i = 0; i < set->count; i++) {
        server_listener *l = &set->items[i];
        if (l->is_unix) /* bound once: every loop shares it */
            continue;
        char hint[256];
        other_owner(l, hint, sizeof(hint)); /* before adding any: counts the sockets passed */
        while (l->loop_count < loops - 1) {
            char why[256] = "out of memory";
            int fd = net_listen_clone(l->fd, backlog, why, sizeof(why));
            if (fd < 0 || listeners_add_loop_fd(l, fd) < 0) {
                if (fd >= 0)
                    close(fd);
                snprintf(err, errlen, "listener '%s': a listener per event loop: %s%s", l->name,
                         why, hint);
                return -1;
            }
        }
    }
    return 0;
}

int loop_listeners_deal(int fd, const int *loop_fds, int loop_count, int index, int loops,
                        int *out, int *shared)
{
    int total = 1 + loop_count, n = 0;
    *shared = total < loops;
    if (*shared) {
        out[n++] = index % total == 0 ? fd : loop_fds[index % total - 1];
        return n;
    }
    for (int j = index; j < total; j += loops)
        out[n++] = j == 0 ? fd : loop_fds[j - 1];
    return n;
}
