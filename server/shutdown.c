/* shutdown.c -- SIGINT/SIGTERM/SIGQUIT turned into something loops can wait on: a pipe that becomes readable. */
#include "shutdown.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int stop_pipe[2] = {-1, -1};
/* Atomic, not just sig_atomic_t: the control thread and the pool's threads read it too. */
static _Atomic int stop_count;
static volatile sig_atomic_t in_child;

static void on_stop_signal(int sig)
{
    if (stop_count++ > 0) {
        if (!in_child)
            _exit(128 + sig); /* the second signal: the user wants out now */
        return;
    }
    int saved = errno;
    ssize_t ignored = write(stop_pipe[1], "x", 1);
    (void)ignored;
    errno = saved;
}

int shutdown_install(char *err, unsigned long errlen)
{
    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    /* SIGQUIT drains too, as nginx's graceful stop does (and no core dump for a request). */
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGQUIT, &sa, NULL) < 0) {
        snprintf(err, errlen, "sigaction: %s", strerror(errno));
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int shutdown_fd(void) { return stop_pipe[0]; }

int shutdown_requested(void) { return stop_count > 0; }

void shutdown_request(void)
{
    if (stop_count++ == 0) {
        ssize_t ignored = write(stop_pipe[1], "x", 1);
        (void)ignored;
    }
}

void shutdown_reset_after_fork(void)
{
    /* The pipe is shared with the parent; a fresh one keeps the child's stop its own. */
    // cppcheck-suppress variableScope ; must be saved before pipe2 overwrites stop_pipe
    int old[2] = {stop_pipe[0], stop_pipe[1]};
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
        close(old[0]);
        close(old[1]);
    }
    stop_count = 0;
    in_child = 1;
}

int shutdown_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                           void *(*start)(void *), void *arg)
{
    sigset_t stop, saved;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &stop, &saved); /* the new thread inherits this mask */
    int rc = pthread_create(thread, attr, start, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rc;
}
