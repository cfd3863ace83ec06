/* upgrade.c -- the hitless upgrade's first half: start a new server process on this one's
 * listening sockets (LISTEN_FDS) and wait until it says it is ready (NOTIFY_SOCKET). */
#include "upgrade.h"

#include "clock.h"
#include "loop_listeners.h"
#include "systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ENV_EXTRA 8
#define PID_DIGITS 24

/* Variables of ours that the successor gets fresh values for, never the inherited ones. */
static int replaced_variable(const char *entry)
{
    static const char *const names[] = {"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=",
                                        "NOTIFY_SOCKET=", "WATCHDOG_PID=", LISTENERS_UPGRADE_ENV "=",
                                        UPGRADE_NOTIFY_NEXT_ENV "="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

/* One NAME=value entry, allocated to fit (no fixed buffer to outgrow); NULL when out of memory. */
__attribute__((format(printf, 1, 2))) static char *env_entry(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *entry = NULL;
    if (vasprintf(&entry, fmt, ap) < 0)
        entry = NULL; /* its content is undefined on failure */
    va_end(ap);
    return entry;
}

/* What the successor gets, in LISTEN_FDS order: every listener, named by its role, then every
 * loop listener, named LOOP_LISTENERS_NAME (the successor finds its listener by address). */
typedef struct handover {
    int count;
    int *fds;
    char *names; /* LISTEN_FDNAMES' value */
} handover;

/* Fills h (free with handover_free); 0, or -1 with err. */
static int handover_build(handover *h, const listener_set *set, char *err, size_t errlen)
{
    size_t names_len = 1;
    h->count = 0;
    for (int i = 0; i < set->count; i++) {
        h->count += 1 + set->items[i].loop_count;
        names_len += strlen(listeners_role(&set->items[i])) + 1 +
                     (size_t)set->items[i].loop_count * (sizeof(LOOP_LISTENERS_NAME) + 1);
    }
    if (h->count > SYSTEMD_LISTEN_MAX) {
        snprintf(err, errlen, "upgrade: %d listening sockets (a listener per event loop) are more "
                 "than a new process takes (%d): lower -w", h->count, SYSTEMD_LISTEN_MAX);
        return -1;
    }
    h->fds = malloc((size_t)h->count * sizeof(*h->fds) + 1); /* + 1: never malloc(0) */
    h->names = malloc(names_len);
    if (h->fds == NULL || h->names == NULL) {
        snprintf(err, errlen, "upgrade: out of memory");
        return -1;
    }
    int n = 0;
    size_t at = 0;
    h->names[0] = '\0';
    for (int i = 0; i < set->count; i++) {
        h->fds[n++] = set->items[i].fd;
        at += (size_t)snprintf(h->names + at, names_len - at, "%s%s", n > 1 ? ":" : "",
                               listeners_role(&set->items[i]));
    }
    for (int i = 0; i < set->count; i++)
        for (int k = 0; k < set->items[i].loop_count; k++) {
            h->fds[n++] = set->items[i].loop_fds[k];
            at += (size_t)snprintf(h->names + at, names_len - at, ":%s", LOOP_LISTENERS_NAME);
        }
    return 0;
}

static void handover_free(handover *h)
{
    free(h->fds);
    free(h->names);
    memset(h, 0, sizeof(*h));
}

/* The successor's environment, built before fork (malloc is not safe after it). *pid_slot is
 * the LISTEN_PID entry, whose digits the successor writes itself. Free with free_env. */
static char **build_env(const listener_set *set, const handover *h, const char *notify,
                        const char *next, char **pid_slot)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + ENV_EXTRA, sizeof(*env));
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!replaced_variable(environ[i]))
            env[k++] = strdup(environ[i]);
    env[k++] = env_entry("LISTEN_FDS=%d", h->count);
    env[k++] = env_entry("LISTEN_FDNAMES=%s", h->names);
    env[k++] = env_entry("NOTIFY_SOCKET=%s", notify);
    env[k++] = env_entry("%s=%s", LISTENERS_UPGRADE_ENV,
                         set->origin == LISTENERS_SYSTEMD ? "systemd" : "1");
    if (next)
        env[k++] = env_entry("%s=%s", UPGRADE_NOTIFY_NEXT_ENV, next);
    *pid_slot = env[k++] = calloc(1, sizeof("LISTEN_PID=") + PID_DIGITS);
    for (size_t i = 0; i < k; i++)
        if (env[i] == NULL)
            *pid_slot = NULL; /* out of memory somewhere: the caller gives up */
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Writes "LISTEN_PID=<pid>" without stdio (we are between fork and exec). */
static void write_pid_entry(char *slot, pid_t pid)
{
    char digits[PID_DIGITS];
    int n = 0;
    do {
        digits[n++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid > 0);
    memcpy(slot, "LISTEN_PID=", 11);
    for (int i = 0; i < n; i++)
        slot[11 + i] = digits[n - 1 - i];
    slot[11 + n] = '\0';
}

/* In the successor, before exec: h's descriptors at 3, 4, ... (without close-on-exec), every
 * signal unblocked. Only async-signal-safe calls. */
static void exec_successor(const char *binary, char *const argv[], char **env, char *pid_slot,
                           const handover *h)
{
    int moved[SYSTEMD_LISTEN_MAX];
    int first = SYSTEMD_LISTEN_FDS_START + h->count;
    for (int i = 0; i < h->count; i++)
        if ((moved[i] = fcntl(h->fds[i], F_DUPFD, first)) < 0)
            _exit(127);
    for (int i = 0; i < h->count; i++) {
        if (dup2(moved[i], SYSTEMD_LISTEN_FDS_START + i) < 0)
            _exit(127);
        close(moved[i]);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    write_pid_entry(pid_slot, getpid());
    execve(binary, argv, env);
    _exit(127);
}

int upgrade_start(upgrade *u, const char *binary, char *const argv[], const listener_set *set,
                  const char *next_notify, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    char name[128], *pid_slot = NULL, **env = NULL;
    int pipefd[2];
    handover h = {0};
    if ((u->notify_fd = systemd_notify_listen(name, sizeof(name), err, errlen)) < 0)
        return -1;
    if (handover_build(&h, set, err, errlen) < 0)
        goto out_close_notify;
    env = build_env(set, &h, name, next_notify, &pid_slot);
    if (env == NULL || pid_slot == NULL || pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "upgrade: %s", env && pid_slot ? strerror(errno) : "out of memory");
        goto out_close_notify;
    }
    pid_t middle = fork();
    if (middle == 0) {
        /* Fork twice, so the successor is nobody's child here: the fork and prefork models
         * wait for all their children at exit, and the successor outlives us. */
        pid_t successor = fork();
        if (successor == 0)
            exec_successor(binary, argv, env, pid_slot, &h);
        ssize_t ignored = write(pipefd[1], &successor, sizeof(successor));
        (void)ignored;
        _exit(0);
    }
    close(pipefd[1]);
    pid_t successor = -1;
    if (middle < 0 || read(pipefd[0], &successor, sizeof(successor)) != (ssize_t)sizeof(successor) ||
        successor <= 0) {
        snprintf(err, errlen, "upgrade: cannot start %s: %s", binary,
                 middle < 0 ? strerror(errno) : "fork failed");
        successor = -1;
    }
    close(pipefd[0]);
    if (middle > 0)
        waitpid(middle, NULL, 0); /* ECHILD when a model's reaper took it first: fine */
    free_env(env);
    env = NULL;
    handover_free(&h);
    if (successor < 0)
        goto out_close_notify;
    u->pid = successor;
    u->deadline_ns = clock_now_ns() + (uint64_t)UPGRADE_READY_TIMEOUT_MS * 1000000u;
    return 0;
out_close_notify:
    free_env(env);
    handover_free(&h);
    close(u->notify_fd);
    memset(u, 0, sizeof(*u));
    return -1;
}

/* 1 while pid runs (not gone, not a zombie its new parent has yet to reap). */
static int still_running(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return kill(pid, 0) == 0;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')'); /* "pid (comm) S ..." */
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void reset(upgrade *u)
{
    if (u->notify_fd > 0)
        close(u->notify_fd);
    memset(u, 0, sizeof(*u));
}

upgrade_state upgrade_poll(upgrade *u, char *err, size_t errlen)
{
    char msg[4096];
    ssize_t n;
    while ((n = recv(u->notify_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
        msg[n] = '\0';
        /* One assignment per line; READY=1 may come with others (STATUS=...). */
        char *save = NULL;
        for (char *line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            if (strcmp(line, "READY=1") == 0) {
                close(u->notify_fd);
                u->notify_fd = -1;
                return UPGRADE_READY;
            }
    }
    if (!still_running(u->pid)) {
        snprintf(err, errlen, "upgrade: the new process %d exited before it was ready (its "
                 "messages above say why); this one keeps serving", (int)u->pid);
        reset(u);
        return UPGRADE_FAILED;
    }
    if (clock_now_ns() > u->deadline_ns) {
        snprintf(err, errlen, "upgrade: the new process %d was not ready within %d s: stopped "
                 "it; this one keeps serving", (int)u->pid, UPGRADE_READY_TIMEOUT_MS / 1000);
        upgrade_abort(u);
        return UPGRADE_FAILED;
    }
    return UPGRADE_WAITING;
}

void upgrade_abort(upgrade *u)
{
    if (u->pid > 0)
        kill(u->pid, SIGTERM);
    reset(u);
}
