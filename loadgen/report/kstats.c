/* kstats.c -- kernel TCP counters that explain latency, from /proc/net/netstat and snmp. */
#include "kstats.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *prefix; /* the line's "TcpExt:" or "Tcp:" */
    const char *name;
} counters[KSTAT_COUNT] = {
    {"TcpExt:", "ListenOverflows"}, {"TcpExt:", "ListenDrops"},     {"TcpExt:", "TCPSynRetrans"},
    {"TcpExt:", "TCPTimeouts"},     {"TcpExt:", "TCPReqQFullDrop"}, {"TcpExt:", "SyncookiesSent"},
    {"Tcp:", "ActiveOpens"},        {"Tcp:", "AttemptFails"},       {"Tcp:", "EstabResets"},
    {"Tcp:", "RetransSegs"},        {"Tcp:", "OutRsts"},
};

const char *kstats_name(kstat_id id)
{
    return (unsigned)id < KSTAT_COUNT ? counters[id].name : "?";
}

/* Copies the next whitespace-separated token of a line into tok; 0 at the line's end. */
static int next_token(const char **p, const char *line_end, char *tok, size_t toklen)
{
    while (*p < line_end && (**p == ' ' || **p == '\t'))
        (*p)++;
    size_t n = 0;
    while (*p < line_end && **p != ' ' && **p != '\t') {
        if (n + 1 < toklen)
            tok[n++] = **p;
        (*p)++;
    }
    tok[n] = '\0';
    return n > 0;
}

/* Matches one names line with its values line. */
static void parse_pair(const char *names, const char *names_end, const char *values,
                       const char *values_end, kstats *k)
{
    char name[64], value[32], prefix[32];
    next_token(&names, names_end, prefix, sizeof(prefix));
    next_token(&values, values_end, value, sizeof(value));
    while (next_token(&names, names_end, name, sizeof(name)) &&
           next_token(&values, values_end, value, sizeof(value))) {
        for (int i = 0; i < KSTAT_COUNT; i++) {
            if (strcmp(prefix, counters[i].prefix) == 0 && strcmp(name, counters[i].name) == 0) {
                k->value[i] = strtoull(value, NULL, 10);
                k->present[i] = 1;
            }
        }
    }
}

void kstats_parse(const char *text, kstats *k)
{
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        if (!end)
            break;
        const char *next = end + 1, *next_end = strchr(next, '\n');
        if (!next_end)
            break;
        const char *colon = memchr(line, ':', (size_t)(end - line));
        /* Names and values lines share the prefix up to the colon. */
        if (colon && strncmp(line, next, (size_t)(colon - line + 1)) == 0) {
            parse_pair(line, end, next, next_end, k);
            line = next_end + 1;
        } else {
            line = next;
        }
    }
}

static void read_file(const char *path, kstats *k)
{
    static const size_t cap = (size_t)64 * 1024;
    char *buf = malloc(cap);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (buf && fd >= 0) {
        size_t len = 0;
        ssize_t n;
        while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
            len += (size_t)n;
        buf[len] = '\0';
        kstats_parse(buf, k);
    }
    if (fd >= 0)
        close(fd);
    free(buf);
}

void kstats_read(kstats *k)
{
    memset(k, 0, sizeof(*k));
    read_file("/proc/net/netstat", k);
    read_file("/proc/net/snmp", k);
}
