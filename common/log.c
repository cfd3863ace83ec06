/* log.c -- leveled messages to stderr, one write(2) per line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature, as stderr is: set once at start-up, before threads. */
static log_level current_level = LOG_LEVEL_INFO;
static const char *program_name = "greeter";
typedef enum { STAMP_NONE = 0, STAMP_TIME = 1, STAMP_PRIORITY = 2 } stamp_kind;
static stamp_kind stamp = STAMP_NONE;

/* The files behind stderr and the access log: their paths, for log_reopen. */
static const char *file_paths[2];
static const int file_fds[2] = {STDERR_FILENO, STDOUT_FILENO};
static int access_fd = STDOUT_FILENO;

static const char *const level_names[] = {"debug", "info", "warning", "error", "off"};

void log_set_level(log_level level) { current_level = level; }
log_level log_get_level(void) { return current_level; }
void log_set_program(const char *name) { program_name = name; }

/* 1 when stderr is the stream JOURNAL_STREAM ("DEVICE:INODE") names. */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    if (js == NULL || fstat(STDERR_FILENO, &st) < 0)
        return 0;
    char *colon, *end;
    unsigned long long dev = strtoull(js, &colon, 10);
    if (colon == js || *colon != ':')
        return 0;
    unsigned long long ino = strtoull(colon + 1, &end, 10);
    return *end == '\0' && (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_use_timestamps(void) { stamp = stderr_is_journal() ? STAMP_PRIORITY : STAMP_TIME; }

void log_format_time(char *buf, unsigned long len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts); /* a wall-clock time for people, not a duration */
    gmtime_r(&ts.tv_sec, &tm);
    char day[24];
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", day, ts.tv_nsec / 1000);
}

/* The line's start: "<6>" for the journal, or the time and a space. */
static int line_stamp(log_level level, char *buf, size_t len)
{
    static const int priorities[] = {7, 6, 4, 3}; /* debug, info, warning, err */
    if (stamp == STAMP_PRIORITY)
        return snprintf(buf, len, "<%d>", priorities[level]);
    if (stamp == STAMP_NONE)
        return 0;
    log_format_time(buf, len);
    size_t n = strlen(buf);
    return snprintf(buf + n, len - n, " ") + (int)n;
}

/* Opens path for appending onto descriptor target (replacing what it was); 0 or -1 with err. */
static int open_onto(const char *path, int target, char *err, unsigned long errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "log file %s: %s", path, strerror(errno));
        return -1;
    }
    /* dup3 swaps the file under the descriptor number in one step: a writer in another
     * thread writes to the old file or to the new one, never to a closed descriptor. */
    int rc = fd == target ? 0 : dup3(fd, target, target > STDERR_FILENO ? O_CLOEXEC : 0);
    if (rc < 0)
        snprintf(err, errlen, "log file %s: %s", path, strerror(errno));
    if (fd != target)
        close(fd);
    return rc < 0 ? -1 : 0;
}

int log_open_file(log_file which, const char *path, char *err, unsigned long errlen)
{
    if (which == LOG_FILE_ACCESS && access_fd == STDOUT_FILENO) {
        /* Its own descriptor: stdout keeps carrying the "listening on" and summary lines. */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(err, errlen, "--access-log-file %s: %s", path, strerror(errno));
            return -1;
        }
        access_fd = fd;
        file_paths[which] = path;
        return 0;
    }
    int target = which == LOG_FILE_ACCESS ? access_fd : file_fds[which];
    if (open_onto(path, target, err, errlen) < 0)
        return -1;
    file_paths[which] = path;
    return 0;
}

int log_reopen(char *err, unsigned long errlen)
{
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        int target = i == LOG_FILE_ACCESS ? access_fd : file_fds[i];
        if (file_paths[i] && open_onto(file_paths[i], target, err, errlen) < 0)
            rc = -1;
    }
    return rc;
}

void log_access_write(const char *line, unsigned long len)
{
    ssize_t ignored = write(access_fd, line, len);
    (void)ignored;
}

void log_msg(log_level level, const char *fmt, ...)
{
    if (level < current_level || level >= LOG_LEVEL_OFF)
        return;
    char line[1024];
    int n = line_stamp(level, line, sizeof(line));
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: %s: ", program_name, level_names[level]);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: keep the newline */
    line[len++] = '\n';
    /* One write so concurrent lines stay whole; a short write to stderr is not worth retrying. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
