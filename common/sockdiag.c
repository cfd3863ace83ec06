/* sockdiag.c -- asking the kernel (sock_diag) which sockets exist, without touching them. */
#include "sockdiag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum { TCP_LISTEN_STATE = 10 }; /* the kernel's TCP_LISTEN, which UNIX sockets share */
enum { TCP_SYN_RECV_STATE = 3 };  /* the kernel's TCP_SYN_RECV (request sockets included) */

/* Called for each socket of a dump: 0 go on, 1 stop (found what it wanted). */
typedef int (*dump_entry_fn)(struct nlmsghdr *h, void *arg);

/* Sends req (a family's *_diag_req, reqlen bytes) as a dump request and calls each for every
 * socket reported. 1 when each stopped it, 0 at the dump's end, -1 when it failed. */
static int dump(const void *req, size_t reqlen, dump_entry_fn each, void *arg)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -1;
    _Alignas(struct nlmsghdr) char buf[32768];
    struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
    memset(nlh, 0, sizeof(*nlh));
    nlh->nlmsg_len = (uint32_t)NLMSG_LENGTH(reqlen);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    memcpy(NLMSG_DATA(nlh), req, reqlen);
    int result = send(fd, nlh, nlh->nlmsg_len, 0) < 0 ? -1 : 2;
    while (result == 2) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            result = -1;
        for (struct nlmsghdr *h = nlh; result == 2 && NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
            result = h->nlmsg_type == NLMSG_DONE ? 0 : h->nlmsg_type == NLMSG_ERROR ? -1 : each(h, arg) ? 1 : 2;
    }
    close(fd);
    return result;
}

struct unix_match {
    uint32_t dev, ino;
    int socktype;
};

/* Stops at a socket of the wanted type whose UNIX_DIAG_VFS attribute names the file. */
static int unix_entry(struct nlmsghdr *h, void *arg)
{
    const struct unix_match *want = arg;
    struct unix_diag_msg *msg = NLMSG_DATA(h);
    int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
    if (msg->udiag_type != want->socktype)
        return 0;
    for (struct rtattr *a = (struct rtattr *)(msg + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(struct unix_diag_vfs))
            continue;
        struct unix_diag_vfs vfs;
        memcpy(&vfs, RTA_DATA(a), sizeof(vfs));
        return vfs.udiag_vfs_ino == want->ino && vfs.udiag_vfs_dev == want->dev;
    }
    return 0;
}

int sockdiag_unix_bound(dev_t dev, ino_t ino, int socktype)
{
    struct unix_diag_req req;
    memset(&req, 0, sizeof(req));
    req.sdiag_family = AF_UNIX;
    /* A stream server listens; a datagram server's socket is merely bound (any state). */
    req.udiag_states = socktype == SOCK_STREAM ? 1u << TCP_LISTEN_STATE : ~0u;
    req.udiag_show = UDIAG_SHOW_VFS;
    /* unix_diag reports the kernel's own dev_t (major << 20 | minor), not stat's encoding. */
    struct unix_match want = {(uint32_t)((major(dev) << 20) | minor(dev)), (uint32_t)ino, socktype};
    return dump(&req, sizeof(req), unix_entry, &want);
}

struct listen_sum {
    unsigned port;
    int total; /* -1 until a listener on port is seen */
};

/* Adds the accept queue of a listener on the port (for a listener, rqueue is that queue). */
static int listen_entry(struct nlmsghdr *h, void *arg)
{
    struct listen_sum *sum = arg;
    struct inet_diag_msg *msg = NLMSG_DATA(h);
    if (ntohs(msg->id.idiag_sport) == sum->port)
        sum->total = (sum->total < 0 ? 0 : sum->total) + (int)msg->idiag_rqueue;
    return 0;
}

/* Counts a connection whose handshake the server side of port has under way. */
static int handshake_entry(struct nlmsghdr *h, void *arg)
{
    struct listen_sum *sum = arg;
    const struct inet_diag_msg *msg = NLMSG_DATA(h);
    if (ntohs(msg->id.idiag_sport) == sum->port)
        sum->total++;
    return 0;
}

/* Hands every IPv4 and IPv6 TCP socket in state to entry; 0, or -1 when the kernel cannot
 * say. */
static int dump_tcp(unsigned state, int (*entry)(struct nlmsghdr *, void *), struct listen_sum *sum)
{
    for (int family = 0; family < 2; family++) {
        struct inet_diag_req_v2 req;
        memset(&req, 0, sizeof(req));
        req.sdiag_family = family ? AF_INET6 : AF_INET;
        req.sdiag_protocol = IPPROTO_TCP;
        req.idiag_states = 1u << state;
        if (dump(&req, sizeof(req), entry, sum) < 0)
            return -1;
    }
    return 0;
}

int sockdiag_tcp_handshakes(unsigned port)
{
    struct listen_sum sum = {port, 0};
    return dump_tcp(TCP_SYN_RECV_STATE, handshake_entry, &sum) < 0 ? -2 : sum.total;
}

int sockdiag_tcp_accept_queue(unsigned port)
{
    struct listen_sum sum = {port, -1};
    return dump_tcp(TCP_LISTEN_STATE, listen_entry, &sum) < 0 ? -2 : sum.total;
}
