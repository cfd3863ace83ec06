/* log.h -- leveled messages to stderr, one line each, safe from many threads. */
#ifndef GREETER_LOG_H
#define GREETER_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_OFF = 4
} log_level;

/* The threshold is process-wide by nature (stderr is); set it once at start-up. */
void log_set_level(log_level level);
log_level log_get_level(void);

/* Writes "PROG: LEVEL: message\n" with one write(2), so lines from threads never interleave. */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Program name used as the line prefix (default "greeter"). The string must outlive the process. */
void log_set_program(const char *name);

/*
 * For long-running programs (the server): each stderr line then starts with its time (RFC 3339,
 * UTC, microseconds), or, when stderr is the systemd journal (JOURNAL_STREAM names it), with
 * a "<N>" syslog priority the journal turns into the entry's level (and stamps itself).
 */
void log_use_timestamps(void);

/* Writes the current time as RFC 3339 ("2026-11-28T03:47:11.123456Z") into buf (>= 32). */
void log_format_time(char *buf, unsigned long len);

/* The log files: stderr's lines (--log-file) and the access log (--access-log-file; stdout
 * when none). Opened for appending and created 0640; 0, or -1 with err "what PATH: why". */
typedef enum { LOG_FILE_MESSAGES = 0, LOG_FILE_ACCESS = 1 } log_file;
int log_open_file(log_file which, const char *path, char *err, unsigned long errlen);

/* Reopens every log file by its path (after logrotate moved it): writers never see a closed
 * descriptor, the new file takes the old one's place at once. 0, or -1 with err (the old
 * file stays in use). */
int log_reopen(char *err, unsigned long errlen);

/* Writes one access-log line (ending in a newline) with one write(2). */
void log_access_write(const char *line, unsigned long len);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
