/* shutdown.c -- SIGINT/SIGTERM/SIGQUIT turned into something loops can wait on: a pipe that becomes readable. */
#include "shutdown.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* The parent's stop: a pipe written once. In a forked child, stop_pipe[0] is the child's
 * signalfd and stop_pipe[1] is -1. */
static int stop_pipe[2] = {-1, -1};
/* Atomic: every thread reads it, and the control thread or any failing thread sets it. */
static _Atomic int stop_count;
static int in_child; /* only ever set in a single-threaded forked child */

void shutdown_add_signals(sigset_t *set)
{
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    /* SIGQUIT drains too, as nginx's graceful stop does (and no core dump for a request). */
    sigaddset(set, SIGQUIT);
}

int shutdown_is_stop_signal(int sig)
{
    return sig == SIGINT || sig == SIGTERM || sig == SIGQUIT;
}

static void block_stop_signals(void)
{
    sigset_t stop;
    sigemptyset(&stop);
    shutdown_add_signals(&stop);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
}

int shutdown_install(char *err, unsigned long errlen)
{
    block_stop_signals(); /* first: a signal from now on waits, pending, for the signalfd */
    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int shutdown_fd(void) { return stop_pipe[0]; }

int shutdown_requested(void)
{
    if (stop_count > 0)
        return 1;
    /* A child's signalfd stays readable while a stop signal is pending (nobody reads it). */
    struct pollfd stop = {stop_pipe[0], POLLIN, 0};
    if (in_child && poll(&stop, 1, 0) > 0)
        stop_count = 1;
    return stop_count > 0;
}

void shutdown_request(void)
{
    if (stop_count++ > 0)
        return;
    if (in_child) {
        kill(getpid(), SIGTERM); /* blocked: it only makes the child's signalfd readable */
        return;
    }
    ssize_t ignored = write(stop_pipe[1], "x", 1);
    (void)ignored;
}

void shutdown_on_signal(int sig)
{
    if (stop_count > 0 && !in_child)
        _exit(128 + sig); /* the second signal: the user wants out now */
    shutdown_request();
}

void shutdown_reset_after_fork(void)
{
    block_stop_signals(); /* already blocked in every thread; said again for the signalfd */
    sigset_t stop;
    sigemptyset(&stop);
    shutdown_add_signals(&stop);
    int fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) {
        /* Without it the child could not hear its own SIGTERM (a prefork reload retires
         * children by it), and a stop it asked for would stop its parent: give up at once;
         * the parent counts what it held as failed and starts another. */
        log_error("child %d: signalfd: %s", (int)getpid(), strerror(errno));
        _exit(1);
    }
    /* The parent's pipe, if it was the parent's, is the parent's own stop. */
    if (stop_pipe[0] >= 0)
        close(stop_pipe[0]);
    if (stop_pipe[1] >= 0)
        close(stop_pipe[1]);
    stop_pipe[0] = fd;
    stop_pipe[1] = -1;
    stop_count = 0;
    in_child = 1;
}

int shutdown_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                           void *(*start)(void *), void *arg)
{
    sigset_t stop, saved;
    sigemptyset(&stop);
    shutdown_add_signals(&stop);
    pthread_sigmask(SIG_BLOCK, &stop, &saved); /* the new thread inherits this mask */
    int rc = pthread_create(thread, attr, start, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rc;
}
