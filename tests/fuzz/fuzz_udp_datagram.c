/*
 * fuzz_udp_datagram.c -- udp_answer_one on arbitrary datagrams: a datagram of at most --udp-max
 * bytes gets exactly the greeting back; a larger one gets nothing (never amplified). The
 * datagrams travel over an AF_UNIX socketpair, so nothing leaves the process.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stats.h"
#include "udp.h"

#define FUZZ_UDP_MAX 512
#define GREETING "Thank you for connecting"

static server_config cfg;
static server srv;
static int client_fd = -1; /* the asker's end; the server answers on srv.listen_fd */
static char *request_buf;

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_udp_datagram: %s (errno %d: %s)\n", what, errno, strerror(errno));
        abort();
    }
}

/* One server and one socketpair for the whole run; every input leaves both queues empty. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int fds[2];
    require(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
    /* Autobind the asking end to an abstract address: the server replies with sendto() to the
     * address recvfrom() reported, and an unbound socket has none to reply to. */
    struct sockaddr_un any = {.sun_family = AF_UNIX};
    require(bind(fds[0], (struct sockaddr *)&any, sizeof(sa_family_t)) == 0, "autobind");
    client_fd = fds[0];
    cfg.udp = 1;
    cfg.udp_max = FUZZ_UDP_MAX;
    cfg.udp_amplification = 3; /* the default: small datagrams go unanswered */
    cfg.handler.greeting = GREETING;
    cfg.handler.greeting_len = strlen(GREETING);
    cfg.handler.io_timeout_ms = 100;
    srv.cfg = &cfg;
    srv.listen_fd = fds[1];
    srv.stats = server_stats_create();
    request_buf = malloc(FUZZ_UDP_MAX + 1); /* what udp_serve gives each worker */
    require(srv.stats != NULL && request_buf != NULL, "setup");
    return 0;
}

/* Input: the datagram's bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (send(client_fd, data, size, MSG_DONTWAIT) != (ssize_t)size)
        return 0; /* larger than the socket buffer: not a datagram anyone can send */
    uint64_t greeted = server_stats_get(&srv.stats->greeted), rejected = server_stats_get(&srv.stats->rejected);
    require(udp_answer_one(&srv, srv.listen_fd, request_buf, FUZZ_UDP_MAX + 1) == 1,
            "the waiting datagram was not handled");
    char reply[sizeof(GREETING) + 64];
    ssize_t n = recv(client_fd, reply, sizeof(reply), MSG_DONTWAIT | MSG_TRUNC);
    if (size <= FUZZ_UDP_MAX && strlen(GREETING) <= 3 * size) {
        require(n == (ssize_t)strlen(GREETING) && memcmp(reply, GREETING, (size_t)n) == 0,
                "a datagram within --udp-max did not get exactly the greeting");
        require(server_stats_get(&srv.stats->greeted) == greeted + 1, "greeted not counted");
    } else { /* oversized, or too small for the greeting under the 3x limit */
        require(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
                "an oversized or too small datagram was answered");
        require(server_stats_get(&srv.stats->rejected) == rejected + 1, "rejected not counted");
    }
    require(udp_answer_one(&srv, srv.listen_fd, request_buf, FUZZ_UDP_MAX + 1) == 0,
            "a second datagram appeared");
    return 0;
}
