/* listeners.c -- the server's listening sockets: opened from the command line, or inherited
 * (systemd socket activation, or the previous process of a hitless upgrade) and checked. */
#include "listeners.h"

#include "log.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The listening socket the configuration asks for; -1 with err (and a hint when in use). */
static int open_configured(const listeners_spec *spec, char *err, size_t errlen)
{
    int socktype = spec->udp ? SOCK_DGRAM : SOCK_STREAM;
    if (spec->unix_path)
        return net_listen_unix(spec->unix_path, socktype, spec->backlog, spec->unix_mode, err, errlen);
    net_listen_opts opts = {.socktype = socktype, .backlog = spec->backlog,
                            .reuseport = spec->model_reuseport, .ipv6_only = spec->ipv6_only};
    int in_use = 0;
    int fd = net_listen(spec->host, spec->port, &opts, &in_use, err, errlen);
    if (fd < 0 && in_use) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (another server is on that port: stop it or pick another with -p)");
    }
    return fd;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int sockopt_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    return getsockopt(fd, level, name, &v, &len) == 0 ? v : -1;
}

static int loop_named(const char *name) { return strcmp(name, LOOP_LISTENERS_NAME) == 0; }

static int same_address(int a, int b)
{
    struct sockaddr_storage sa = {0}, sb = {0}; /* zeroed: compared whole */
    socklen_t la = sizeof(sa), lb = sizeof(sb);
    return getsockname(a, (struct sockaddr *)&sa, &la) == 0 &&
           getsockname(b, (struct sockaddr *)&sb, &lb) == 0 && la == lb && memcmp(&sa, &sb, la) == 0;
}

int listeners_add_loop_fd(server_listener *l, int fd)
{
    int *grown = realloc(l->loop_fds, (size_t)(l->loop_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    l->loop_fds = grown;
    l->loop_fds[l->loop_count++] = fd;
    return 0;
}

/* Adds the inherited descriptor fd (named LOOP_LISTENERS_NAME: a loop's socket an upgrade
 * hands over) to the listener of set of its type bound to the same address, which then owns
 * it. 0, or -1 with why; fd is left to the caller then. */
static int take_loop_listener(listener_set *set, int fd, char *why, size_t whylen)
{
    int dgram = sockopt_int(fd, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM;
    if (!(dgram || sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1) ||
        sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) != 1) {
        snprintf(why, whylen, "named '%s' (a loop's socket an upgrade hands over), but neither a "
                 "listening stream nor a datagram socket with SO_REUSEPORT", LOOP_LISTENERS_NAME);
        return -1;
    }
    for (int i = 0; i < set->count; i++) {
        server_listener *l = &set->items[i];
        if (l->udp != dgram || l->is_unix || !same_address(l->fd, fd))
            continue;
        if (listeners_add_loop_fd(l, fd) == 0)
            return 0;
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(why, whylen, "named '%s' (a loop's socket an upgrade hands over), but no other "
             "inherited %s listener is on its address", LOOP_LISTENERS_NAME, dgram ? "UDP" : "TCP");
    return -1;
}

/* What kind of socket fd is: fills l's kind fields; 0, or -1 with why it cannot be served. */
static int classify(server_listener *l, char *why, size_t whylen)
{
    struct stat st;
    if (fstat(l->fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        snprintf(why, whylen, "not a socket (use ListenStream= or ListenDatagram=)");
        return -1;
    }
    int family = sockopt_int(l->fd, SOL_SOCKET, SO_DOMAIN);
    int type = sockopt_int(l->fd, SOL_SOCKET, SO_TYPE);
    if (family != AF_INET && family != AF_INET6 && family != AF_UNIX) {
        snprintf(why, whylen, "a socket of address family %d, not TCP, UDP or UNIX", family);
        return -1;
    }
    if (type != SOCK_STREAM && type != SOCK_DGRAM) {
        snprintf(why, whylen, "a %s socket, not a stream or datagram one (use ListenStream=)",
                 type == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "raw or other");
        return -1;
    }
    if (type == SOCK_STREAM && sockopt_int(l->fd, SOL_SOCKET, SO_ACCEPTCONN) != 1) {
        snprintf(why, whylen, "a connected stream socket, not a listening one (set Accept=no)");
        return -1;
    }
    l->udp = type == SOCK_DGRAM;
    l->is_unix = family == AF_UNIX;
    return 0;
}

/* Decides TLS for an inherited stream by its name, and checks the model and options can serve
 * it. 0, or -1 with why. */
static int check_fit(server_listener *l, const listeners_spec *spec, char *why, size_t whylen)
{
    int named_tls = strcmp(l->name, "tls") == 0 || ends_with(l->name, "-tls");
    int named_plain = strcmp(l->name, "plain") == 0 || ends_with(l->name, "-plain") ||
                      strcmp(l->name, "udp") == 0;
    l->tls = !l->udp && (named_tls || (!named_plain && spec->tls));
    if (l->udp && named_tls)
        snprintf(why, whylen, "a datagram socket named for TLS (DTLS is not supported)");
    else if (l->tls && !spec->tls)
        snprintf(why, whylen, "named for TLS: give --tls-cert and --tls-key");
    else if (l->udp && !spec->model_udp)
        snprintf(why, whylen, "a datagram socket: the %s model does not serve datagrams "
                 "(use pool, iterative or event)", spec->model);
    else if (!l->udp && spec->udp)
        snprintf(why, whylen, "a stream socket, but --udp was given");
    else if (l->udp && spec->caps)
        snprintf(why, whylen, "a datagram socket: --max-conns and --max-per-ip do not apply");
    else if (l->udp && spec->proxy_protocol)
        snprintf(why, whylen, "a datagram socket: --proxy-protocol does not apply (the header "
                 "comes on connections)");
    /* One loop adds no listener, so a launcher that cannot set SO_REUSEPORT (such as
     * systemd-socket-activate) still serves it. */
    else if (spec->model_reuseport && spec->workers > 1 && !l->is_unix &&
             sockopt_int(l->fd, SOL_SOCKET, SO_REUSEPORT) != 1)
        snprintf(why, whylen, "the event model adds a listener per loop: set ReusePort=yes, or "
                 "run one loop (-w 1)");
    else
        return 0;
    return -1;
}

/* One inherited listener, checked, into set (closed instead when set is full); 0, or -1 with
 * err naming it and the misfit. */
static int take_listener(listener_set *set, int fd, const char *name, const listeners_spec *spec,
                         char *err, size_t errlen)
{
    char why[256];
    if (set->count == LISTENERS_MAX) {
        snprintf(err, errlen, "inherited descriptor %d ('%s'): more than %d listeners", fd, name,
                 LISTENERS_MAX);
        close(fd);
        return -1;
    }
    server_listener *l = &set->items[set->count++]; /* the set owns it from here, fit or not */
    l->fd = fd;
    snprintf(l->name, sizeof(l->name), "%s", name);
    if (classify(l, why, sizeof(why)) < 0 || check_fit(l, spec, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "inherited descriptor %d ('%s'): %s", fd, name, why);
        return -1;
    }
    return 0;
}

/* The inherited descriptors, each checked: the listeners, then the loop listeners an upgrade
 * passed with them. 0, or -1 with err naming the first misfit; each descriptor is then either
 * in set (listeners_close closes it) or closed here. */
static int take_inherited(listener_set *set, const systemd_fds *fds, const listeners_spec *spec,
                          char *err, size_t errlen)
{
    int rc = 0;
    if (fds->count > 1 && spec->model_one_listener) {
        snprintf(err, errlen, "%d inherited listeners: the %s model serves one (use pool, thread, "
                 "iterative or event, or pass one socket)", fds->count, spec->model);
        rc = -1;
    }
    for (int i = 0; i < fds->count; i++) {
        if (loop_named(fds->names[i]))
            continue;
        if (rc == 0)
            rc = take_listener(set, fds->fds[i], fds->names[i], spec, err, errlen);
        else
            close(fds->fds[i]); /* after a misfit: never taken */
    }
    for (int i = 0; i < fds->count; i++) {
        char why[256] = "a loop listener, which only the event model serves (an upgrade to "
                        "another model: restart instead; a socket unit: name it otherwise)";
        if (!loop_named(fds->names[i]))
            continue;
        if (rc == 0 && (!spec->model_reuseport || take_loop_listener(set, fds->fds[i], why, sizeof(why)) < 0)) {
            snprintf(err, errlen, "inherited descriptor %d ('%s'): %s", fds->fds[i], fds->names[i], why);
            rc = -1;
        }
        if (rc < 0)
            close(fds->fds[i]);
    }
    return rc;
}

/* A TLS listener over TCP accepts a connection once its ClientHello is in (net_defer_accept):
 * a worker or a loop woken for it can start the handshake at once instead of waiting for it.
 * Not fatal: without it the handshake waits for the ClientHello as it would anyway. */
static void defer_tls_accepts(const listener_set *set)
{
    for (int i = 0; i < set->count; i++) {
        const server_listener *l = &set->items[i];
        int set_already = 0;
        socklen_t len = sizeof(set_already);
        if (!l->tls || l->is_unix ||
            (getsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &set_already, &len) == 0 &&
             set_already > 0)) /* a socket unit's DeferAcceptSec= stands */
            continue;
        if (net_defer_accept(l->fd, LISTENERS_TLS_DEFER_S) < 0)
            log_warn("listener '%s': TCP_DEFER_ACCEPT: %s (TLS connections are accepted "
                     "before their ClientHello)", l->name, strerror(errno));
    }
}

/* The inherited listeners (fds->count > 0) into set; 0, or -1 with err. upgrade is the value
 * of LISTENERS_UPGRADE_ENV, or NULL. */
static int open_inherited(listener_set *set, const systemd_fds *fds, const char *upgrade,
                          const listeners_spec *spec, char *err, size_t errlen)
{
    set->origin = upgrade && strcmp(upgrade, "1") == 0 ? LISTENERS_UPGRADE
                  : upgrade                            ? LISTENERS_SYSTEMD
                  : spec->address_given                ? LISTENERS_OPENED
                                                       : LISTENERS_SYSTEMD;
    if (set->origin == LISTENERS_OPENED) {
        /* Given both, which one the user meant is anyone's guess: refuse. */
        snprintf(err, errlen, "-H/-p/--unix do not apply when the listeners are inherited "
                 "(LISTEN_FDS=%d): remove them, or start without socket activation", fds->count);
        for (int i = 0; i < fds->count; i++)
            close(fds->fds[i]);
        return -1;
    }
    return take_inherited(set, fds, spec, err, errlen);
}

/* The listener the configuration names into set; 0, or -1 with err. */
static int open_one(listener_set *set, const listeners_spec *spec, char *err, size_t errlen)
{
    server_listener *l = &set->items[0];
    if ((l->fd = open_configured(spec, err, errlen)) < 0)
        return -1;
    set->count = 1;
    l->udp = spec->udp;
    l->tls = spec->tls;
    l->is_unix = spec->unix_path != NULL;
    snprintf(l->name, sizeof(l->name), "%s", listeners_role(l));
    return 0;
}

int listeners_open(listener_set *set, const listeners_spec *spec, char *err, size_t errlen)
{
    memset(set, 0, sizeof(*set));
    const char *upgrade = getenv(LISTENERS_UPGRADE_ENV);
    systemd_fds *fds = calloc(1, sizeof(*fds)); /* large: room for an upgrade's loop listeners */
    if (fds == NULL) {
        snprintf(err, errlen, "listeners: out of memory");
        return -1;
    }
    int rc = systemd_listen_fds(fds, err, errlen);
    unsetenv(LISTENERS_UPGRADE_ENV);
    if (rc == 0)
        rc = fds->count > 0 ? open_inherited(set, fds, upgrade, spec, err, errlen)
                            : open_one(set, spec, err, errlen);
    free(fds);
    if (rc == 0)
        defer_tls_accepts(set); /* before loop_listeners_open: the loop listeners copy it */
    return rc;
}

/* Closes l's further listeners and forgets them. */
static void close_loop_listeners(server_listener *l)
{
    for (int i = 0; i < l->loop_count; i++)
        close(l->loop_fds[i]);
    free(l->loop_fds);
    l->loop_fds = NULL;
    l->loop_count = 0;
}

void listeners_close(listener_set *set, int keep_files)
{
    for (int i = 0; i < set->count; i++) {
        if (!keep_files && set->origin != LISTENERS_SYSTEMD)
            net_unix_cleanup(set->items[i].fd);
        close(set->items[i].fd);
        close_loop_listeners(&set->items[i]);
    }
    set->count = 0;
}

const char *listeners_role(const server_listener *l)
{
    return l->udp ? "udp" : l->tls ? "tls" : "plain";
}
