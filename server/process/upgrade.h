/* upgrade.h -- the hitless upgrade's first half: start a new server process on this one's
 * listening sockets (LISTEN_FDS) and wait until it says it is ready (NOTIFY_SOCKET). */
#ifndef GREETER_UPGRADE_H
#define GREETER_UPGRADE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "listeners.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the successor's readiness goes after ours: it reports READY=1 to the old process's
 * private socket, then talks to the service manager at this address, if any. */
#define UPGRADE_NOTIFY_NEXT_ENV "GREETER_NOTIFY_NEXT"

/* How long a successor may take to become ready before it is stopped and the upgrade fails. */
#define UPGRADE_READY_TIMEOUT_MS 30000

typedef struct upgrade {
    pid_t pid;     /* the successor; 0 when none is starting */
    int notify_fd; /* where it reports READY=1 */
    uint64_t deadline_ns;
} upgrade;

typedef enum { UPGRADE_WAITING = 0, UPGRADE_READY = 1, UPGRADE_FAILED = 2 } upgrade_state;

/*
 * Starts binary with argv and the environment, plus LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES for
 * set's sockets (named by role) and NOTIFY_SOCKET for its readiness; next_notify (may be
 * NULL) is the service manager's socket the successor reports to afterwards. The successor is
 * not our child (it outlives us, and the models reap only their own children). 0, or -1 with
 * err.
 */
int upgrade_start(upgrade *u, const char *binary, char *const argv[], const listener_set *set,
                  const char *next_notify, char *err, size_t errlen);

/* Never blocks: WAITING, READY (u->pid is the successor), or FAILED with err (the successor
 * was stopped or is gone; u is reset). */
upgrade_state upgrade_poll(upgrade *u, char *err, size_t errlen);

/* Stops a successor that is still starting (SIGTERM) and resets u. */
void upgrade_abort(upgrade *u);

#ifdef __cplusplus
}
#endif
#endif
