/* net.c -- socket helpers shared by the server, the client and loadgen. */
#include "net.h"

#include "addr.h"
#include "clock.h"
#include "sockdiag.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int net_set_nonblocking(int fd, int on)
{
    /* One system call where fcntl takes two (F_GETFL, then F_SETFL): every TLS connection
     * pays it. */
    return ioctl(fd, FIONBIO, &on);
}

/* Binds one resolved address; returns the descriptor or -1 with errno set and *what naming
 * the call that failed. */
static int listen_one(const struct addrinfo *ai, const net_listen_opts *opts, const char **what)
{
    int one = 1;
    int type = ai->ai_socktype | SOCK_CLOEXEC | (opts->nonblock ? SOCK_NONBLOCK : 0);
    int fd = socket(ai->ai_family, type, ai->ai_protocol);
    if (fd < 0) {
        *what = "socket";
        return -1;
    }
    *what = "setsockopt";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto out_close_fd;
    if (opts->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto out_close_fd;
    if (ai->ai_family == AF_INET6) {
        int v6only = opts->ipv6_only ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
            goto out_close_fd;
    }
    *what = "bind";
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        goto out_close_fd;
    *what = "listen";
    if (ai->ai_socktype == SOCK_STREAM && listen(fd, opts->backlog > 0 ? opts->backlog : SOMAXCONN) < 0)
        goto out_close_fd;
    return fd;

out_close_fd: {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
}

int net_listen(const char *host, const char *port, const net_listen_opts *opts_in, int *in_use,
               char *err, size_t errlen)
{
    net_listen_opts opts = opts_in ? *opts_in : (net_listen_opts){0};
    addr_hints hints = {.family = opts.family,
                        .socktype = opts.socktype ? opts.socktype : SOCK_STREAM,
                        .passive = 1};
    struct addrinfo *list;
    if (in_use)
        *in_use = 0;
    if (addr_resolve(host, port, &hints, &list, err, errlen) < 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        const char *what;
        fd = listen_one(ai, &opts, &what);
        if (fd >= 0)
            break;
        /* Keep the first failure's message: later addresses are fallbacks. */
        if (ai == list) {
            char name[ADDR_STRLEN];
            addr_format_hostport(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
            snprintf(err, errlen, "%s %s: %s", what, name, strerror(errno));
            if (in_use && errno == EADDRINUSE)
                *in_use = 1;
        }
    }
    freeaddrinfo(list);
    return fd;
}

/* Fills a sockaddr_un; -1 with err when the path does not fit. */
static int unix_address(const char *path, struct sockaddr_un *sun, char *err, size_t errlen)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path)) {
        snprintf(err, errlen, "UNIX socket path '%s': %s", path,
                 path[0] ? "too long (at most 107 bytes)" : "empty");
        return -1;
    }
    memcpy(sun->sun_path, path, strlen(path) + 1); /* fits: checked above */
    return 0;
}

/* An existing path may be removed only when it is a socket that nobody answers on. */
static int remove_stale_socket(const char *path, const struct sockaddr_un *sun, int socktype,
                               char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket: remove it yourself or pick another path",
                 path);
        return -1;
    }
    /* Ask the kernel whether a socket serves on this file: a probing connect would be
     * accepted by the live server and counted there as a failed connection. Without
     * unix_diag, the probe it is. */
    int live = sockdiag_unix_bound(st.st_dev, st.st_ino, socktype), refused = live == 0;
    if (live < 0) {
        int probe = socket(AF_UNIX, socktype | SOCK_CLOEXEC, 0);
        live = probe >= 0 && connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
        refused = !live && errno == ECONNREFUSED;
        if (probe >= 0)
            close(probe);
    }
    if (live) {
        snprintf(err, errlen, "%s: a server is already listening there", path);
        return -1;
    }
    if (!refused) {
        snprintf(err, errlen, "%s: cannot tell whether it is stale: %s", path, strerror(errno));
        return -1;
    }
    if (unlink(path) < 0) {
        snprintf(err, errlen, "remove stale socket %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int net_listen_unix(const char *path, int socktype, int backlog, int mode, char *err,
                    size_t errlen)
{
    struct sockaddr_un sun;
    socktype = socktype ? socktype : SOCK_STREAM;
    if (unix_address(path, &sun, err, errlen) < 0 ||
        remove_stale_socket(path, &sun, socktype, err, errlen) < 0)
        return -1;
    int fd = socket(AF_UNIX, socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    const char *what = "bind";
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        goto out_close_fd;
    what = "chmod";
    if (mode >= 0 && chmod(path, (mode_t)mode) < 0)
        goto out_unlink;
    what = "listen";
    if (socktype == SOCK_STREAM && listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        goto out_unlink;
    return fd;

out_unlink:
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    unlink(path);
    close(fd);
    return -1;
out_close_fd:
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    close(fd);
    return -1;
}

void net_unix_cleanup(int fd)
{
    struct sockaddr_un sun = {0}; /* zeroed: the fields getsockname leaves alone read as 0 */
    socklen_t len = sizeof(sun);
    if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 && sun.sun_family == AF_UNIX &&
        len > offsetof(struct sockaddr_un, sun_path) && sun.sun_path[0] != '\0')
        unlink(sun.sun_path);
}

int net_connect_unix(const char *path, int socktype, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    socktype = socktype ? socktype : SOCK_STREAM;
    if (unix_address(path, &sun, err, errlen) < 0)
        return -1;
    int fd = socket(AF_UNIX, socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* A datagram client needs an address of its own for the reply: Linux autobinds one in
     * the abstract namespace when bind is given just the family. */
    sa_family_t family = AF_UNIX;
    if (socktype == SOCK_DGRAM && bind(fd, (struct sockaddr *)&family, sizeof(family)) < 0) {
        snprintf(err, errlen, "bind (autobind): %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* A UNIX connect cannot be polled for: it blocks, or says EAGAIN, while the listener's
     * backlog is full. The kernel bounds that wait by the send timeout. */
    struct timeval tv = {timeout_ms / 1000, (suseconds_t)(timeout_ms % 1000) * 1000};
    if (timeout_ms > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
        snprintf(err, errlen, "setsockopt SO_SNDTIMEO: %s", strerror(errno));
        close(fd);
        return -1;
    }
    int rc;
    while ((rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun))) < 0 && errno == EINTR) {
    }
    if (rc < 0) {
        if (errno == EAGAIN)
            snprintf(err, errlen, "connect %s: timed out after %d ms (the server's backlog is full)",
                     path, timeout_ms);
        else
            snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int net_connect_start(int fd, const struct sockaddr *sa, socklen_t salen)
{
    for (;;) {
        if (connect(fd, sa, salen) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EINPROGRESS ? 1 : -1;
    }
}

/* Waits for a non-blocking connect to finish; 0 connected, -1 failed (errno set, ETIMEDOUT
 * when the bound passed). */
static int connect_wait(int fd, int timeout_ms)
{
    uint64_t deadline = timeout_ms > 0 ? clock_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            uint64_t now = clock_now_ns();
            if (now >= deadline) {
                errno = ETIMEDOUT;
                return -1;
            }
            wait_ms = (int)((deadline - now + 999999) / 1000000);
        }
        struct pollfd pfd = {fd, POLLOUT, 0};
        int n = poll(&pfd, 1, wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            continue; /* the deadline check above turns this into ETIMEDOUT */
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            return -1;
        if (soerr != 0) {
            errno = soerr;
            return -1;
        }
        return 0;
    }
}

int net_connect(const char *host, const char *port, int socktype, int timeout_ms, char *err,
                size_t errlen)
{
    addr_hints hints = {.socktype = socktype ? socktype : SOCK_STREAM};
    struct addrinfo *list;
    if (addr_resolve(host, port, &hints, &list, err, errlen) < 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            snprintf(err, errlen, "socket: %s", strerror(errno));
            continue;
        }
        int rc = net_connect_start(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 1)
            rc = connect_wait(fd, timeout_ms);
        if (rc == 0 && net_set_nonblocking(fd, 0) == 0)
            break;
        char name[ADDR_STRLEN];
        addr_format_hostport(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
        if (errno == ETIMEDOUT)
            snprintf(err, errlen, "connect %s: timed out after %d ms", name, timeout_ms);
        else
            snprintf(err, errlen, "connect %s: %s", name, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

int net_effective_backlog(int requested)
{
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    long somaxconn = 0;
    if (f != NULL) {
        char line[32];
        if (fgets(line, sizeof(line), f) != NULL)
            somaxconn = strtol(line, NULL, 10);
        fclose(f);
    }
    return somaxconn > 0 && somaxconn < requested ? (int)somaxconn : requested;
}

long net_raise_nofile(long wanted)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    rlim_t target = (rlim_t)wanted;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
        target = rl.rlim_max;
    if (target > rl.rlim_cur) {
        rl.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -1;
    }
    return (long)rl.rlim_cur;
}

net_io_result net_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ns,
                            size_t *written)
{
    const char *p = buf;
    size_t done = 0;
    net_io_result result = NET_IO_DONE;
    while (done < len) {
        /* MSG_DONTWAIT: the fast path is one send; we only poll when the peer is slow. */
        ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            result = NET_IO_FAILED;
            break;
        }
        int wait_ms = -1;
        if (deadline_ns) {
            uint64_t now = clock_now_ns();
            if (now >= deadline_ns) {
                result = NET_IO_AGAIN;
                break;
            }
            wait_ms = (int)((deadline_ns - now + 999999) / 1000000);
        }
        struct pollfd pfd = {fd, POLLOUT, 0};
        if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
            result = NET_IO_FAILED;
            break;
        }
    }
    if (written)
        *written = done;
    return result;
}

/* The kernel's struct tcp_info past the fields glibc's <netinet/tcp.h> declares (Linux 4.6
 * and later fill these; an older kernel returns a shorter struct, told by the length). */
typedef struct tcp_info_ext {
    struct tcp_info base;
    // cppcheck-suppress unusedStructMember ; the kernel's layout: the fields read come after
    uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
    // cppcheck-suppress unusedStructMember ; the kernel's layout, as above
    uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in;
} tcp_info_ext;

/* 1 or 0 for a TCP socket, from one getsockopt(TCP_INFO); -1 when it cannot tell (not TCP,
 * an old kernel, or the peer sent data, which the caller may have read: FIONREAD says). */
static int tcp_close_is_safe(int fd)
{
    tcp_info_ext ti;
    socklen_t len = sizeof(ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || len < sizeof(ti))
        return -1;
    /* Segments in flight (tcpi_unacked) and bytes not yet sent: together SIOCOUTQ's test. */
    if (ti.base.tcpi_unacked != 0 || ti.notsent_bytes != 0)
        return 0;
    return ti.data_segs_in == 0 ? 1 : -1; /* a bare FIN carries no data: it does not count */
}

int net_close_is_safe(int fd)
{
    /* Closing with unread input, or input that arrives after close, makes the kernel answer
     * with a reset, and a reset throws away whatever of our reply the peer has not yet
     * acknowledged. When nothing is unread and the peer has acknowledged every byte, a reset
     * can no longer cost it anything. For a TCP peer that sent nothing (the greeting
     * protocol's client) one system call tells both, where two ioctls did: each costs about
     * a microsecond on every connection. */
    int safe = tcp_close_is_safe(fd);
    if (safe >= 0)
        return safe;
    int unread = 0, unacked = 0;
    return ioctl(fd, FIONREAD, &unread) == 0 && unread == 0 && ioctl(fd, SIOCOUTQ, &unacked) == 0 &&
           unacked == 0;
}

void net_close_graceful(int fd, int drain_ms, size_t drain_limit)
{
    if (net_close_is_safe(fd))
        close(fd);
    else
        net_close_lingering(fd, drain_ms, drain_limit);
}

void net_close_lingering(int fd, int drain_ms, size_t drain_limit)
{
    shutdown(fd, SHUT_WR);
    uint64_t deadline = clock_now_ns() + (uint64_t)(drain_ms > 0 ? drain_ms : 0) * 1000000u;
    size_t drained = 0;
    char sink[4096];
    while (drained < drain_limit) {
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n > 0) {
            drained += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            break; /* the peer's EOF, or a reset: nothing left to protect */
        uint64_t now = clock_now_ns();
        if (now >= deadline)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
    }
    close(fd);
}

int net_defer_accept(int fd, int seconds)
{
    return setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof(seconds));
}

int net_listen_clone(int listen_fd, int backlog, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0}; /* zeroed: the fields getsockname leaves alone read as 0 */
    socklen_t sslen = sizeof(ss);
    int v6only = 0, one = 1;
    socklen_t optlen = sizeof(v6only);
    if (getsockname(listen_fd, (struct sockaddr *)&ss, &sslen) < 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        return -1;
    }
    int socktype = SOCK_STREAM;
    socklen_t typelen = sizeof(socktype);
    getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &socktype, &typelen);
    int fd = socket(ss.ss_family, socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    const char *what = "setsockopt";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto out_close_fd;
    if (ss.ss_family == AF_INET6 &&
        (getsockopt(listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) < 0 ||
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0))
        goto out_close_fd;
    what = "bind";
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
        goto out_close_fd;
    what = "listen";
    if (socktype == SOCK_STREAM && listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        goto out_close_fd;
    int defer_s = 0;
    optlen = sizeof(defer_s);
    what = "TCP_DEFER_ACCEPT";
    if (socktype == SOCK_STREAM && ss.ss_family != AF_UNIX &&
        getsockopt(listen_fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, &optlen) == 0 &&
        defer_s > 0 && net_defer_accept(fd, defer_s) < 0)
        goto out_close_fd;
    return fd;

out_close_fd: {
    char name[ADDR_STRLEN];
    addr_format_hostport((struct sockaddr *)&ss, sslen, name, sizeof(name));
    snprintf(err, errlen, "%s %s (another listener): %s", what, name, strerror(errno));
    close(fd);
    return -1;
}
}

void net_local_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
        snprintf(buf, len, "(unknown: %s)", strerror(errno));
        return;
    }
    addr_format_hostport((struct sockaddr *)&ss, sslen, buf, len);
}

void net_udp_request(char *buf, size_t size)
{
    static const char ask[] = "greeting?";
    memset(buf, 0, size);
    memcpy(buf, ask, size < sizeof(ask) - 1 ? size : sizeof(ask) - 1);
}
