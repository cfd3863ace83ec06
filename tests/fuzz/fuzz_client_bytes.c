/*
 * fuzz_client_bytes.c -- handler_serve against a client that sends arbitrary bytes before its
 * greeting and then stops sending: the client must receive exactly the greeting, then EOF.
 * The connection is an AF_UNIX socketpair, so nothing leaves the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handler.h"
#include "stats.h"

#define GREETING "Thank you for connecting"

static handler_config cfg;
static server_stats *stats;

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_client_bytes: %s (errno %d: %s)\n", what, errno, strerror(errno));
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg.greeting = GREETING;
    cfg.greeting_len = strlen(GREETING);
    cfg.busy_message = "";
    cfg.io_timeout_ms = 200; /* the client has shut down its side: nothing should wait this long */
    stats = server_stats_create();
    require(stats != NULL, "server_stats_create");
    return 0;
}

/* Writes as much of data as the socket takes without blocking. */
static void send_what_fits(int fd, const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(fd, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
}

/* Input: the bytes the client sends before reading its greeting. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    require(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    send_what_fits(sv[0], data, size);
    require(shutdown(sv[0], SHUT_WR) == 0, "shutdown");

    conn_item conn;
    memset(&conn, 0, sizeof(conn));
    conn.fd = sv[1];
    conn.peer.ss_family = AF_UNIX;
    conn.peer_len = sizeof(sa_family_t);
    uint64_t greeted = server_stats_get(&stats->greeted);
    handler_serve(&cfg, &conn, stats); /* closes sv[1] */

    /* The server has closed: everything it sent is already queued, so this never blocks.
     * Inputs stay far below the handler's 64 KiB drain limit (libFuzzer's -max_len), so the
     * close never turns into ECONNRESET. */
    char got[sizeof(GREETING) + 64];
    size_t len = 0;
    for (;;) {
        ssize_t n = recv(sv[0], got + len, sizeof(got) - len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        require(n >= 0, "reading the greeting failed");
        if (n == 0 || (len += (size_t)n) == sizeof(got))
            break;
    }
    require(len == strlen(GREETING) && memcmp(got, GREETING, len) == 0,
            "the client did not get exactly the greeting");
    require(server_stats_get(&stats->greeted) == greeted + 1, "greeted not counted");
    close(sv[0]);
    return 0;
}
