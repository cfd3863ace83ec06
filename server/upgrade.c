/* upgrade.c -- the hitless upgrade's first half: start a new server process on this one's
 * listening sockets (LISTEN_FDS) and wait until it says it is ready (NOTIFY_SOCKET). */
#include "upgrade.h"

#include "clock.h"
#include "systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* The successor's environment, built before fork (malloc is not safe after it). *pid_slot is
 * the LISTEN_PID entry, whose digits the successor writes itself. Free with free_env. */
static char **build_env(const listener_set *set, const char *notify, const char *next,
                        char **pid_slot)
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
    char names[SYSTEMD_LISTEN_MAX * 8] = "";
    for (int i = 0; i < set->count; i++)
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ":" : "",
                 listeners_role(&set->items[i]));
    char line[512];
    snprintf(line, sizeof(line), "LISTEN_FDS=%d", set->count);
    env[k++] = strdup(line);
    snprintf(line, sizeof(line), "LISTEN_FDNAMES=%s", names);
    env[k++] = strdup(line);
    snprintf(line, sizeof(line), "NOTIFY_SOCKET=%s", notify);
    env[k++] = strdup(line);
    snprintf(line, sizeof(line), "%s=%s", LISTENERS_UPGRADE_ENV,
             set->origin == LISTENERS_SYSTEMD ? "systemd" : "1");
    env[k++] = strdup(line);
    if (next) {
        snprintf(line, sizeof(line), "%s=%s", UPGRADE_NOTIFY_NEXT_ENV, next);
        env[k++] = strdup(line);
    }
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

/* In the successor, before exec: the listeners at 3, 4, ... (without close-on-exec), every
 * signal unblocked. Only async-signal-safe calls. */
static void exec_successor(const char *binary, char *const argv[], char **env, char *pid_slot,
                           const listener_set *set)
{
    int moved[SYSTEMD_LISTEN_MAX];
    int first = SYSTEMD_LISTEN_FDS_START + set->count;
    for (int i = 0; i < set->count; i++)
        if ((moved[i] = fcntl(set->items[i].fd, F_DUPFD, first)) < 0)
            _exit(127);
    for (int i = 0; i < set->count; i++) {
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
    char name[128], *pid_slot = NULL;
    int pipefd[2];
    if ((u->notify_fd = systemd_notify_listen(name, sizeof(name), err, errlen)) < 0)
        return -1;
    char **env = build_env(set, name, next_notify, &pid_slot);
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
            exec_successor(binary, argv, env, pid_slot, set);
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
    if (successor < 0)
        goto out_close_notify;
    u->pid = successor;
    u->deadline_ns = clock_now_ns() + (uint64_t)UPGRADE_READY_TIMEOUT_MS * 1000000u;
    return 0;
out_close_notify:
    free_env(env);
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
