/* control.h -- the server's control thread: SIGINT/SIGTERM/SIGQUIT stop, SIGHUP reload, SIGUSR1
 * log reopening, SIGUSR2 hitless upgrade, and what systemd hears (READY=1, STATUS=, STOPPING=1, WATCHDOG=1). */
#ifndef GREETER_CONTROL_H
#define GREETER_CONTROL_H

#include <stddef.h>

#include "listeners.h"
#include "reload.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct control_config {
    server_stats *stats;
    reload_state *live;         /* NULL: SIGHUP only reopens the logs */
    const listener_set *listeners;
    const char *upgrade_binary; /* the program SIGUSR2 starts */
    char *const *argv;          /* ... with these arguments */
} control_config;

typedef struct control control;

/* Blocks the signals the control thread takes (SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGPWR; the
 * stop signals too, which shutdown_install blocks as well) in the calling thread, so every
 * thread started later has them blocked too and they wait for the control thread instead of
 * ending the process. Call before starting any thread. */
void control_block_signals(void);

/*
 * Starts the control thread and tells the service manager (NOTIFY_SOCKET, if any) READY=1
 * with a STATUS=. cfg and what it points to must outlive control_stop. NULL with err.
 */
control *control_start(const control_config *cfg, char *err, size_t errlen);

/* Stops and frees the thread. Returns 1 when the process stopped because a successor took
 * over (an upgrade): the caller then leaves the UNIX socket files to it. */
int control_stop(control *c);

#ifdef __cplusplus
}
#endif
#endif
