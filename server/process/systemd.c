/* systemd.c -- systemd's socket activation (LISTEN_FDS) and readiness protocol (NOTIFY_SOCKET),
 * implemented from their documentation so the server needs no libsystemd. */
#include "systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Parses a whole decimal number; -1 when text is not one. */
static long long parse_number(const char *text)
{
    char *end;
    errno = 0;
    long long v = text && *text ? strtoll(text, &end, 10) : -1;
    if (!text || !*text || errno != 0 || *end != '\0' || v < 0)
        return -1;
    return v;
}

/* Splits LISTEN_FDNAMES ("a:b:c") into out->names; missing names are "unknown". */
static void split_names(systemd_fds *out, const char *names)
{
    for (int i = 0; i < out->count; i++) {
        const char *end = names ? strchr(names, ':') : NULL;
        size_t len = names ? (end ? (size_t)(end - names) : strlen(names)) : 0;
        if (len >= SYSTEMD_NAME_MAX)
            len = SYSTEMD_NAME_MAX - 1;
        if (names && len > 0) {
            memcpy(out->names[i], names, len);
            out->names[i][len] = '\0';
        } else {
            snprintf(out->names[i], SYSTEMD_NAME_MAX, "unknown");
        }
        names = end ? end + 1 : NULL;
    }
}

int systemd_listen_fds(systemd_fds *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *pid_text = getenv("LISTEN_PID"), *fds_text = getenv("LISTEN_FDS");
    if (fds_text == NULL)
        return 0;
    long long pid = parse_number(pid_text), count = parse_number(fds_text);
    int rc = 0;
    if (pid_text != NULL && pid < 0) {
        snprintf(err, errlen, "LISTEN_PID='%s' is not a process id", pid_text);
        rc = -1;
    } else if (count < 0 || count > SYSTEMD_LISTEN_MAX) {
        snprintf(err, errlen, "LISTEN_FDS='%s' is not a count of descriptors (0-%d)", fds_text,
                 SYSTEMD_LISTEN_MAX);
        rc = -1;
    } else if (pid_text == NULL || pid == (long long)getpid()) {
        /* Without LISTEN_PID the variables are ours (the documented protocol requires it, but
         * hand-written launchers often leave it out); with it, they must name us. */
        out->count = (int)count;
        split_names(out, getenv("LISTEN_FDNAMES"));
        for (int i = 0; i < out->count; i++) {
            out->fds[i] = SYSTEMD_LISTEN_FDS_START + i;
            if (fcntl(out->fds[i], F_SETFD, FD_CLOEXEC) < 0) {
                snprintf(err, errlen, "LISTEN_FDS=%d: descriptor %d is not open (%s)", out->count,
                         out->fds[i], strerror(errno));
                rc = -1;
                break;
            }
        }
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (rc < 0)
        out->count = 0;
    return rc;
}

/* Fills addr for "/path" or "@abstract"; returns the address length, or 0 when too long. */
static unsigned socket_address(struct sockaddr_un *addr, const char *path)
{
    size_t len = strlen(path);
    if (len >= sizeof(addr->sun_path))
        return 0;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, len);
    if (path[0] == '@')
        addr->sun_path[0] = '\0'; /* abstract: no trailing NUL counts in the length */
    else
        len++;
    return (unsigned)(offsetof(struct sockaddr_un, sun_path) + len);
}

int systemd_notifier_open(systemd_notifier *n, const char *path, char *err, size_t errlen)
{
    memset(n, 0, sizeof(*n));
    n->fd = -1;
    if (path == NULL || *path == '\0')
        return 0;
    if ((path[0] != '/' && path[0] != '@') || (n->addr_len = socket_address(&n->addr, path)) == 0) {
        snprintf(err, errlen, "NOTIFY_SOCKET='%s' is not a socket path or @abstract name", path);
        return -1;
    }
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (n->fd < 0) {
        snprintf(err, errlen, "NOTIFY_SOCKET %s: socket: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void systemd_notifier_close(systemd_notifier *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

int systemd_notify(const systemd_notifier *n, const char *message)
{
    if (n->fd < 0)
        return 0;
    ssize_t sent = sendto(n->fd, message, strlen(message), MSG_NOSIGNAL,
                          (const struct sockaddr *)&n->addr, n->addr_len);
    return sent < 0 ? -1 : 0;
}

uint64_t systemd_watchdog_usec(void)
{
    long long usec = parse_number(getenv("WATCHDOG_USEC"));
    const char *pid_text = getenv("WATCHDOG_PID");
    if (usec <= 0 || (pid_text && parse_number(pid_text) != (long long)getpid()))
        return 0;
    return (uint64_t)usec;
}

int systemd_notify_listen(char *name, size_t namelen, char *err, size_t errlen)
{
    static unsigned serial; /* with the pid and the clock, a name no other process holds */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(name, namelen, "@greeter-notify-%d-%u-%ld", (int)getpid(), ++serial, ts.tv_nsec);
    struct sockaddr_un addr;
    unsigned len = socket_address(&addr, name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || len == 0 || bind(fd, (struct sockaddr *)&addr, len) < 0) {
        snprintf(err, errlen, "notification socket %s: %s", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}
