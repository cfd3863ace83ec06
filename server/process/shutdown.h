/* shutdown.h -- SIGINT/SIGTERM/SIGQUIT turned into something loops can wait on: a pipe that becomes readable. */
#ifndef GREETER_SHUTDOWN_H
#define GREETER_SHUTDOWN_H

#include <pthread.h>
#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Makes the stop pipe, blocks SIGINT, SIGTERM and SIGQUIT in the calling thread, and ignores
 * SIGPIPE. Call before starting any thread: every thread then has the stop signals blocked,
 * and they wait, pending, for the control thread's signalfd (shutdown_add_signals,
 * shutdown_on_signal). No thread runs a handler for them: a handler interrupts whatever
 * thread the kernel picks, and ThreadSanitizer defers a handler to its own safe points (a
 * SIGTERM was lost there, see docs/architecture.md). 0, or -1 with err.
 */
int shutdown_install(char *err, unsigned long errlen);

/* Adds SIGINT, SIGTERM and SIGQUIT to set: the signals a signalfd hands to shutdown_on_signal. */
void shutdown_add_signals(sigset_t *set);

/* Nonzero for SIGINT, SIGTERM and SIGQUIT. */
int shutdown_is_stop_signal(int sig);

/* A stop signal read from a signalfd: the first makes shutdown_fd() readable (it stays
 * readable: every waiter sees it); a second ends the process at once with status 128+sig. */
void shutdown_on_signal(int sig);

/* The descriptor to include in poll(); it never has to be read. -1 before shutdown_install. */
int shutdown_fd(void);

/* Nonzero once a stop was asked for (by a signal or shutdown_request). */
int shutdown_requested(void);

/* pthread_create with SIGINT, SIGTERM and SIGQUIT blocked in the new thread, whatever the
 * caller's mask: no thread the server starts takes a stop signal (see shutdown_install).
 * Returns pthread_create's result. */
int shutdown_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                           void *(*start)(void *), void *arg);

/* Asks for a stop from inside the process, as a signal would. */
void shutdown_request(void);

/* In a forked child that serves clients (it has no control thread): the child's stop is its
 * own, a signalfd on the stop signals, which stay blocked; shutdown_fd() is that descriptor
 * and every signal the child receives only asks it to stop (a terminal's Ctrl-C reaches the
 * whole process group and the parent then forwards a SIGTERM: that second signal must not
 * cut a greeting short). A signal that arrived between fork and this call stays pending and
 * counts. A child that cannot make its signalfd exits 1 at once (logged). */
void shutdown_reset_after_fork(void);

#ifdef __cplusplus
}
#endif
#endif
