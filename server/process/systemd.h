/* systemd.h -- systemd's socket activation (LISTEN_FDS) and readiness protocol (NOTIFY_SOCKET),
 * implemented from their documentation so the server needs no libsystemd. */
#ifndef GREETER_SYSTEMD_H
#define GREETER_SYSTEMD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYSTEMD_LISTEN_FDS_START 3
/* Room for an event server's upgrade: its listeners and a listener per loop beside each. */
#define SYSTEMD_LISTEN_MAX 1024
#define SYSTEMD_NAME_MAX 256

/* Descriptors passed to this process (sd_listen_fds(3)): LISTEN_PID must name this process. */
typedef struct systemd_fds {
    int count;
    int fds[SYSTEMD_LISTEN_MAX];
    char names[SYSTEMD_LISTEN_MAX][SYSTEMD_NAME_MAX]; /* LISTEN_FDNAMES, or "unknown" */
} systemd_fds;

/*
 * Takes the descriptors systemd (or systemd-socket-activate, or an upgrading greeter-server)
 * passed: fills out (count 0 when none are meant for this process), marks them close-on-exec
 * and removes LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from the environment so no child
 * inherits them by mistake. 0, or -1 with err for a malformed variable.
 */
int systemd_listen_fds(systemd_fds *out, char *err, size_t errlen);

/* A datagram socket to a service manager's notification socket. fd is -1 when disabled. */
typedef struct systemd_notifier {
    int fd;
    struct sockaddr_un addr;
    unsigned addr_len;
} systemd_notifier;

/*
 * Opens a notifier for the socket address path: a file path, or "@name" for Linux's abstract
 * namespace. path NULL or "" gives a disabled notifier (every send is then a no-op). 0, or -1
 * with err (the notifier is then disabled).
 */
int systemd_notifier_open(systemd_notifier *n, const char *path, char *err, size_t errlen);
void systemd_notifier_close(systemd_notifier *n);

/* Sends one message, e.g. "READY=1\nSTATUS=serving". Returns 0, or -1 (errno set) when it
 * could not be sent; a disabled notifier returns 0. Async-signal-safe. */
int systemd_notify(const systemd_notifier *n, const char *message);

/* The watchdog interval asked by WATCHDOG_USEC (and WATCHDOG_PID, when set, naming this
 * process), in microseconds; 0 when there is none. */
uint64_t systemd_watchdog_usec(void);

/*
 * The receiving side, for a process that starts another and waits for it to be ready: binds a
 * datagram socket in the abstract namespace under a fresh name and writes "@name" into name
 * (for the child's NOTIFY_SOCKET). Returns the descriptor (close-on-exec, non-blocking), or -1
 * with err.
 */
int systemd_notify_listen(char *name, size_t namelen, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
