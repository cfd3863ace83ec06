/* shutdown.h -- SIGINT/SIGTERM/SIGQUIT turned into something loops can wait on: a pipe that becomes readable. */
#ifndef GREETER_SHUTDOWN_H
#define GREETER_SHUTDOWN_H

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Installs the handlers and ignores SIGPIPE. The first SIGINT, SIGTERM or SIGQUIT makes
 * shutdown_fd() readable (it stays readable: every waiter sees it); a second one ends the
 * process at once with status 128+signal. A signal handler can only reach process-wide
 * state, so this module is the one owner of that state. 0, or -1 with err.
 */
int shutdown_install(char *err, unsigned long errlen);

/* The read end to include in poll(); it never has to be read. -1 before shutdown_install. */
int shutdown_fd(void);

/* Nonzero once a stop was asked for (by a signal or shutdown_request). */
int shutdown_requested(void);

/* pthread_create with SIGINT, SIGTERM and SIGQUIT blocked in the new thread: stop signals then reach
 * only the thread that started the server, which waits on the pipe in an ordinary way. (A
 * signal taken by a busy worker, or by a sanitizer's helper thread, which a sanitizer defers
 * until that thread next calls into it, could otherwise wait indefinitely.) Returns
 * pthread_create's result. */
int shutdown_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                           void *(*start)(void *), void *arg);

/* Asks for a stop from inside the process, as a signal would. */
void shutdown_request(void);

/* In a forked child that serves clients: the child gets its own pipe, and every signal it
 * receives only asks it to stop (a terminal's Ctrl-C reaches the whole process group and the
 * parent then forwards a SIGTERM: that second signal must not cut a greeting short). */
void shutdown_reset_after_fork(void);

#ifdef __cplusplus
}
#endif
#endif
