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

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
