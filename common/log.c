/* log.c -- leveled messages to stderr, one write(2) per line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static log_level current_level = LOG_LEVEL_INFO;
static const char *program_name = "greeter";

static const char *const level_names[] = {"debug", "info", "warning", "error", "off"};

void log_set_level(log_level level) { current_level = level; }
log_level log_get_level(void) { return current_level; }
void log_set_program(const char *name) { program_name = name; }

void log_msg(log_level level, const char *fmt, ...)
{
    if (level < current_level || level >= LOG_LEVEL_OFF)
        return;
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s: %s: ", program_name, level_names[level]);
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
