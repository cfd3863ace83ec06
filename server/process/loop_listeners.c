/* loop_listeners.c -- the event model's further SO_REUSEPORT sockets, one per loop beside each
 * TCP or UDP listener: opened at start, or taken over from the previous process of an upgrade
 * and handed on to the next, so that no listening socket closes during an upgrade.
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

int loop_listeners_named(const char *name) { return strcmp(name, LOOP_LISTENERS_NAME) == 0; }

static int sockopt_is_set(int fd, int name)
{
    int v = 0;
    socklen_t len = sizeof(v);
    return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 && v == 1;
}

static int same_address(int a, int b)
{
    struct sockaddr_storage sa = {0}, sb = {0}; /* zeroed: compared whole */
    socklen_t la = sizeof(sa), lb = sizeof(sb);
    return getsockname(a, (struct sockaddr *)&sa, &la) == 0 &&
           getsockname(b, (struct sockaddr *)&sb, &lb) == 0 && la == lb && memcmp(&sa, &sb, la) == 0;
}

/* Appends fd to l's further listeners; 0, or -1 when out of memory. */
static int append(server_listener *l, int fd)
{
    int *grown = realloc(l->loop_fds, (size_t)(l->loop_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    l->loop_fds = grown;
    l->loop_fds[l->loop_count++] = fd;
    return 0;
}

int loop_listeners_take(listener_set *set, int fd, char *why, size_t whylen)
{
    int type = 0;
    socklen_t len = sizeof(type);
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    int dgram = type == SOCK_DGRAM;
    if (!(dgram || sockopt_is_set(fd, SO_ACCEPTCONN)) || !sockopt_is_set(fd, SO_REUSEPORT)) {
        snprintf(why, whylen, "named '%s' (a loop's socket an upgrade hands over), but neither a "
                 "listening stream nor a datagram socket with SO_REUSEPORT", LOOP_LISTENERS_NAME);
        return -1;
    }
    for (int i = 0; i < set->count; i++) {
        server_listener *l = &set->items[i];
        if (l->udp != dgram || l->is_unix || !same_address(l->fd, fd))
            continue;
        if (append(l, fd) == 0)
            return 0;
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(why, whylen, "named '%s' (a loop's socket an upgrade hands over), but no other "
             "inherited %s listener is on its address", LOOP_LISTENERS_NAME, dgram ? "UDP" : "TCP");
    return -1;
}

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
            if (fd < 0 || append(l, fd) < 0) {
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

void loop_listeners_close(server_listener *l)
{
    for (int i = 0; i < l->loop_count; i++)
        close(l->loop_fds[i]);
    free(l->loop_fds);
    l->loop_fds = NULL;
    l->loop_count = 0;
}
