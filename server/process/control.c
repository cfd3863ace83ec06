/* control.c -- the server's control thread: SIGINT/SIGTERM/SIGQUIT stop, SIGHUP reload, SIGUSR1
 * log reopening, SIGUSR2 hitless upgrade, and what systemd hears (READY=1, STATUS=, STOPPING=1, WATCHDOG=1). */
#include "control.h"

#include "clock.h"
#include "log.h"
#include "shutdown.h"
#include "systemd.h"
#include "upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define STATUS_INTERVAL_MS 1000
#define UPGRADE_POLL_MS 20
#define ERRLEN 512

struct control {
    control_config cfg;
    pthread_t thread;
    int signal_fd;
    int stop_pipe[2]; /* control_stop writes; the thread ends */
    systemd_notifier notifier;
    uint64_t watchdog_ns; /* 0: no watchdog */
    uint64_t next_watchdog_ns, next_status_ns;
    int draining;
    int upgraded;
    upgrade pending;
    sem_t started; /* posted once the thread runs its loop: control_start waits for it */
};

static void control_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGALRM);
    sigaddset(set, SIGPWR);
    shutdown_add_signals(set); /* blocked already by shutdown_install; taken here, not by a handler */
}

void control_block_signals(void)
{
    sigset_t set;
    control_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* "STATUS=serving: accepted N, greeted N, ..., in flight N" */
static void send_status(control *c, const char *prefix)
{
    server_stats *s = c->cfg.stats;
    uint64_t accepted = server_stats_get(&s->accepted), greeted = server_stats_get(&s->greeted),
             rejected = server_stats_get(&s->rejected), failed = server_stats_get(&s->failed),
             denied = server_stats_get(&s->denied);
    uint64_t done = greeted + rejected + failed + denied;
    char msg[512];
    snprintf(msg, sizeof(msg),
             "%sSTATUS=%s: accepted %llu, greeted %llu, rejected %llu, failed %llu, denied %llu, "
             "in flight %llu", prefix, c->draining ? "draining" : "serving",
             (unsigned long long)accepted, (unsigned long long)greeted,
             (unsigned long long)rejected, (unsigned long long)failed,
             (unsigned long long)denied, (unsigned long long)(accepted > done ? accepted - done : 0));
    systemd_notify(&c->notifier, msg);
}

static void on_reload(control *c)
{
    char err[ERRLEN];
    if (log_reopen(err, sizeof(err)) < 0)
        log_error("SIGHUP: %s (still writing to the old file)", err);
    if (c->cfg.live == NULL) {
        log_info("SIGHUP: log files reopened");
        return;
    }
    if (reload_apply(c->cfg.live, err, sizeof(err)) < 0)
        log_error("SIGHUP: reload failed, keeping the running configuration: %s", err);
    else
        log_info("SIGHUP: reloaded (%s); connections in flight finish with the old", err);
}

static void on_upgrade(control *c)
{
    char err[ERRLEN];
    if (c->draining || c->pending.pid > 0) {
        log_warn("SIGUSR2: ignored: %s", c->draining ? "the server is stopping" : "an upgrade is already starting");
        return;
    }
    const char *next = c->notifier.fd >= 0 ? getenv("NOTIFY_SOCKET") : NULL;
    if (upgrade_start(&c->pending, c->cfg.upgrade_binary, c->cfg.argv, c->cfg.listeners, next,
                      err, sizeof(err)) < 0) {
        log_error("SIGUSR2: %s; this one keeps serving", err);
        return;
    }
    log_info("SIGUSR2: started %s as process %d; waiting for it to be ready",
             c->cfg.upgrade_binary, (int)c->pending.pid);
}

/* While a successor starts: its readiness hands over the listeners and we stop. */
static void watch_upgrade(control *c)
{
    char err[ERRLEN];
    pid_t pid = c->pending.pid;
    switch (upgrade_poll(&c->pending, err, sizeof(err))) {
    case UPGRADE_WAITING: return;
    case UPGRADE_FAILED: log_error("%s", err); return;
    case UPGRADE_READY: break;
    }
    char msg[64];
    snprintf(msg, sizeof(msg), "MAINPID=%d", (int)pid);
    systemd_notify(&c->notifier, msg); /* the service manager now follows the successor */
    systemd_notifier_close(&c->notifier);
    c->upgraded = 1;
    c->pending.pid = 0;
    log_info("upgrade: process %d is ready; this one (%d) stops accepting, greets what it "
             "accepted and exits", (int)pid, (int)getpid());
    shutdown_request();
}

static void on_signal(control *c)
{
    struct signalfd_siginfo si;
    while (read(c->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (shutdown_is_stop_signal((int)si.ssi_signo)) {
            /* Before the models see the stop: they take what the listeners hold, then close
             * them, and what comes meanwhile must not be let in to be reset. */
            if (!shutdown_requested())
                listeners_refuse_new(c->cfg.listeners);
            shutdown_on_signal((int)si.ssi_signo); /* the drain starts on the next turn */
        }
        else if (si.ssi_signo == SIGHUP)
            on_reload(c);
        else if (si.ssi_signo == SIGUSR1) {
            char err[ERRLEN];
            if (log_reopen(err, sizeof(err)) < 0)
                log_error("SIGUSR1: %s (still writing to the old file)", err);
            else
                log_info("SIGUSR1: log files reopened");
        } else if (si.ssi_signo == SIGUSR2)
            on_upgrade(c);
        else
            log_warn("%s ignored (SIGTERM, SIGINT or SIGQUIT stop the server)", strsignal((int)si.ssi_signo));
    }
}

/* The next poll timeout: the nearest of the status, the watchdog and an upgrade's check. */
static int next_timeout_ms(const control *c, uint64_t now)
{
    uint64_t next = c->next_status_ns;
    if (c->watchdog_ns && c->next_watchdog_ns < next)
        next = c->next_watchdog_ns;
    int ms = next > now ? (int)((next - now) / 1000000u) + 1 : 0;
    return c->pending.pid > 0 && ms > UPGRADE_POLL_MS ? UPGRADE_POLL_MS : ms;
}

static void on_tick(control *c, uint64_t now)
{
    if (c->watchdog_ns && now >= c->next_watchdog_ns) {
        systemd_notify(&c->notifier, "WATCHDOG=1");
        c->next_watchdog_ns = now + c->watchdog_ns / 2; /* twice per interval, as advised */
    }
    if (now >= c->next_status_ns) {
        send_status(c, "");
        c->next_status_ns = now + (uint64_t)STATUS_INTERVAL_MS * 1000000u;
    }
    if (c->pending.pid > 0)
        watch_upgrade(c);
}

static void *control_main(void *arg)
{
    control *c = arg;
    sem_post(&c->started);
    for (;;) {
        struct pollfd fds[3] = {{c->stop_pipe[0], POLLIN, 0}, {c->signal_fd, POLLIN, 0},
                                {c->draining ? -1 : shutdown_fd(), POLLIN, 0}};
        int n = poll(fds, 3, next_timeout_ms(c, clock_now_ns()));
        if (n < 0 && errno != EINTR)
            break;
        /* The drain before the end: a model that drains at once may let both pipes become
         * readable together, and STOPPING=1 must still be said. */
        if (!c->draining && (fds[2].revents || shutdown_requested())) {
            c->draining = 1;
            if (c->pending.pid > 0) {
                log_info("stopping: the upgrade to process %d is abandoned", (int)c->pending.pid);
                upgrade_abort(&c->pending);
            }
            send_status(c, c->upgraded ? "" : "STOPPING=1\n");
        }
        if (fds[0].revents)
            break;
        if (fds[1].revents)
            on_signal(c);
        on_tick(c, clock_now_ns());
    }
    return NULL;
}

/* NOTIFY_SOCKET, then (for a successor) the service manager's socket after READY=1. */
static int open_notifier(control *c, char *err, size_t errlen)
{
    const char *next = getenv(UPGRADE_NOTIFY_NEXT_ENV);
    if (systemd_notifier_open(&c->notifier, getenv("NOTIFY_SOCKET"), err, errlen) < 0)
        return -1;
    send_status(c, "READY=1\n");
    c->next_status_ns = clock_now_ns() + (uint64_t)STATUS_INTERVAL_MS * 1000000u;
    if (next) {
        systemd_notifier_close(&c->notifier);
        if (systemd_notifier_open(&c->notifier, next, err, errlen) < 0)
            return -1;
        setenv("NOTIFY_SOCKET", next, 1); /* a later upgrade hands this one on */
        unsetenv(UPGRADE_NOTIFY_NEXT_ENV);
    }
    c->watchdog_ns = systemd_watchdog_usec() * 1000u;
    return 0;
}

control *control_start(const control_config *cfg, char *err, size_t errlen)
{
    control *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "control thread: out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->notifier.fd = c->signal_fd = c->stop_pipe[0] = c->stop_pipe[1] = -1;
    sigset_t set;
    control_signals(&set);
    if ((c->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
        pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "control thread: %s", strerror(errno));
        goto out_free;
    }
    if (open_notifier(c, err, errlen) < 0)
        goto out_free;
    sem_init(&c->started, 0, 0);
    int rc = shutdown_thread_create(&c->thread, NULL, control_main, c);
    if (rc != 0) {
        snprintf(err, errlen, "control thread: %s", strerror(rc));
        sem_destroy(&c->started);
        goto out_free;
    }
    pthread_setname_np(c->thread, "control");
    /* Until the thread runs its loop, it may be setting itself up inside the allocator; a
     * model that forks (prefork's children, fork's) must not fork then: a sanitizer's
     * allocator has no fork handler, and a child inherited its lock held (prefork under ASan
     * hung on its first TLS handshake, in 1 start of 3). Once looping it waits in poll. */
    while (sem_wait(&c->started) < 0 && errno == EINTR) {
    }
    return c;
out_free:
    systemd_notifier_close(&c->notifier);
    if (c->signal_fd >= 0)
        close(c->signal_fd);
    if (c->stop_pipe[0] >= 0) {
        close(c->stop_pipe[0]);
        close(c->stop_pipe[1]);
    }
    free(c);
    return NULL;
}

int control_stop(control *c)
{
    if (c == NULL)
        return 0;
    ssize_t ignored = write(c->stop_pipe[1], "x", 1);
    (void)ignored;
    pthread_join(c->thread, NULL);
    int upgraded = c->upgraded;
    if (c->pending.pid > 0)
        upgrade_abort(&c->pending);
    systemd_notifier_close(&c->notifier);
    close(c->signal_fd);
    close(c->stop_pipe[0]);
    close(c->stop_pipe[1]);
    sem_destroy(&c->started);
    free(c);
    return upgraded;
}
