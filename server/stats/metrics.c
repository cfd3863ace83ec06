/* metrics.c -- the server's counters and gauges as a Prometheus text page, served on --metrics. */
#include "metrics.h"

#include "addr.h"
#include "metrics_http.h"
#include "version.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"

/* Lock rules: `queue` is read and written only with `lock` held, so that the pool cannot free
 * its queue while a scrape reads it. The rest is set before the thread starts. */
struct metrics {
    server_stats *stats;
    metrics_info info;
    int backlog_known; /* info.listen_fd is a TCP listener: TCP_INFO gives its backlog */
    struct timespec started; /* CLOCK_REALTIME */
    pthread_mutex_t lock;
    conn_queue *queue;
    metrics_http *http;
    struct pollfd *poll_set; /* open_fds' scratch space, poll_slots long */
    size_t poll_slots;
};

/* The page being written: appends never overflow, and a full page stays cut short. */
typedef struct page {
    char *buf;
    size_t cap, len;
} page;

static void emit(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(page *p, const char *fmt, ...)
{
    if (p->len + 1 >= p->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->len = p->len + (size_t)n < p->cap ? p->len + (size_t)n : p->cap - 1;
}

static void family(page *p, const char *name, const char *type, const char *help)
{
    emit(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric of one sample: its HELP and TYPE lines and its value. */
static void metric_u64(page *p, const char *name, const char *type, const char *help,
                       uint64_t value)
{
    family(p, name, type, help);
    emit(p, "%s %llu\n", name, (unsigned long long)value);
}

static void counters(page *p, server_stats *s)
{
    static const struct {
        const char *name, *help;
        size_t offset;
    } list[] = {
        {"greeter_connections_accepted_total", "Connections accepted (UDP: datagrams received).",
         offsetof(server_stats, accepted)},
        {"greeter_connections_greeted_total", "Connections sent the whole greeting.",
         offsetof(server_stats, greeted)},
        {"greeter_connections_rejected_total",
         "Connections turned away with the busy message (queue or caps full).",
         offsetof(server_stats, rejected)},
        {"greeter_connections_failed_total",
         "Connections whose greeting could not be delivered (reset, timeout, TLS failure).",
         offsetof(server_stats, failed)},
        {"greeter_connections_denied_total", "Connections closed unanswered by --allow/--deny.",
         offsetof(server_stats, denied)},
        {"greeter_tls_handshake_failures_total",
         "TLS handshakes that failed (also counted in failed).", offsetof(server_stats, tls_failed)},
        {"greeter_proxy_header_failures_total",
         "--proxy-protocol: connections closed for want of a valid PROXY header from a "
         "--proxy-from source (also counted in failed).",
         offsetof(server_stats, proxy_failed)},
        {"greeter_rate_limited_total",
         "Connections and datagrams over --rate-per-ip, turned away (also counted in rejected).",
         offsetof(server_stats, rate_limited)},
        {"greeter_pool_accept_thread_served_total",
         "Pool: connections the accept thread served itself (a bare greeting while every worker "
         "slept and nothing was queued) instead of handing them to a worker.",
         offsetof(server_stats, accept_served)},
        {"greeter_udp_too_small_total",
         "Datagrams left unanswered: the greeting is more than --udp-amplification times their "
         "size (also counted in rejected).",
         offsetof(server_stats, too_small)},
    };
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
        metric_u64(p, list[i].name, "counter", list[i].help,
                   server_stats_get((_Atomic uint64_t *)((char *)s + list[i].offset)));
}

/* Accepted and not yet finished. The outcomes are read first: every one of them follows its
 * connection's accept, so the difference cannot go below zero but by a moment's skew. */
static uint64_t in_flight(server_stats *s)
{
    uint64_t done = server_stats_get(&s->greeted) + server_stats_get(&s->rejected) + server_stats_get(&s->failed) +
                    server_stats_get(&s->denied);
    uint64_t accepted = server_stats_get(&s->accepted);
    return accepted > done ? accepted - done : 0;
}

static void queue_gauges(page *p, metrics *m)
{
    uint64_t depth = 0, capacity = 0, high_water = server_stats_get(&m->stats->queue_high_water);
    pthread_mutex_lock(&m->lock);
    if (m->queue) {
        depth = conn_queue_depth(m->queue);
        capacity = m->queue->capacity; /* fixed at conn_queue_init */
        uint64_t hw = conn_queue_high_water(m->queue);
        high_water = hw > high_water ? hw : high_water;
    }
    pthread_mutex_unlock(&m->lock);
    metric_u64(p, "greeter_queue_depth", "gauge",
               "Accepted connections waiting for a pool worker (0 for models without a queue).",
               depth);
    metric_u64(p, "greeter_queue_capacity", "gauge",
               "Room in the pool's queue (-q); 0 for models without a queue.", capacity);
    metric_u64(p, "greeter_queue_high_water", "gauge",
               "The most connections ever queued at once.", high_water);
}

static void worker_gauges(page *p, metrics *m)
{
    metric_u64(p, "greeter_workers", "gauge",
               "The most connections the model serves at once: pool threads, prefork processes, "
               "event loops, --max-threads, --max-children, or 1 (iterative).",
               m->info.workers);
    metric_u64(p, "greeter_workers_busy", "gauge",
               "Workers serving a connection now (event: loops handling events).",
               server_stats_get(&m->stats->busy));
    metric_u64(p, "greeter_connections_in_flight", "gauge",
               "Connections accepted and not yet finished (queued, being greeted, closing).",
               in_flight(m->stats));
}

/* Adds fd's accept queue to *queued and *limit: on a listening socket, TCP_INFO's unacked is
 * the connections waiting for accept() and sacked the backlog the kernel granted. */
static int add_accept_queue(int fd, uint64_t *queued, uint64_t *limit)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -1;
    *queued += ti.tcpi_unacked;
    *limit += ti.tcpi_sacked;
    return 0;
}

/* The accept queues of the listener and of the event model's loop listeners beside it. */
static void backlog_gauges(page *p, metrics *m)
{
    uint64_t queued = 0, limit = 0;
    if (!m->backlog_known || add_accept_queue(m->info.listen_fd, &queued, &limit) < 0)
        return;
    for (int i = 0; i < m->info.loop_count; i++)
        add_accept_queue(m->info.loop_fds[i], &queued, &limit);
    metric_u64(p, "greeter_listen_backlog", "gauge",
               "Connections in the accept queue (the event model: all its loops' queues), "
               "waiting for accept().",
               queued);
    metric_u64(p, "greeter_listen_backlog_max", "gauge",
               "The accept queue's limit (--backlog, capped by net.core.somaxconn; the event "
               "model: the sum over its loops).",
               limit);
}

static void duration_histogram(page *p, server_stats *s)
{
    static const uint64_t bounds[STATS_DURATION_BUCKETS - 1] = STATS_DURATION_BOUNDS_NS;
    const char *name = "greeter_connection_duration_seconds";
    family(p, name, "histogram",
           "Server-side time from accept to close of each connection served (greeted or failed).");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < STATS_DURATION_BUCKETS; i++) {
        cumulative += server_stats_get(&s->duration_buckets[i]);
        if (i + 1 < STATS_DURATION_BUCKETS)
            emit(p, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] / 1e9,
                 (unsigned long long)cumulative);
        else
            emit(p, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    }
    uint64_t sum_ns = server_stats_get(&s->duration_sum_ns);
    emit(p, "%s_sum %llu.%09llu\n%s_count %llu\n", name, (unsigned long long)(sum_ns / 1000000000u),
         (unsigned long long)(sum_ns % 1000000000u), name, (unsigned long long)cumulative);
}

/* Reads a small /proc file whole into text (NUL-terminated); its length, or -1. */
static ssize_t read_proc(const char *path, char *text, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, text, cap - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n >= 0)
        text[n] = '\0';
    return n;
}

/* The size of this process's descriptor table (FDSize in /proc/self/status): every open
 * descriptor is below it. -1 when unknown. */
static long fd_table_size(void)
{
    char text[4096];
    if (read_proc("/proc/self/status", text, sizeof(text)) <= 0)
        return -1;
    const char *field = strstr(text, "\nFDSize:");
    return field ? strtol(field + 8, NULL, 10) : -1;
}

/*
 * Descriptors open in this process. Listing /proc/self/fd makes the kernel build a directory
 * entry per descriptor (580 us of CPU for 1,000 descriptors, 4.7 ms for 5,000, measured on
 * this project's 2-core test machine); one poll() without events over the whole table, where
 * a slot with no open descriptor answers POLLNVAL, costs a quarter of that (140 us, 1.3 ms).
 * m keeps the array.
 */
static long open_fds(metrics *m)
{
    long size = fd_table_size();
    if (size <= 0)
        return -1;
    if ((size_t)size > m->poll_slots) {
        struct pollfd *grown = realloc(m->poll_set, (size_t)size * sizeof(*grown));
        if (grown == NULL)
            return -1;
        m->poll_set = grown;
        m->poll_slots = (size_t)size;
    }
    for (long i = 0; i < size; i++)
        m->poll_set[i] = (struct pollfd){(int)i, 0, 0};
    if (poll(m->poll_set, (nfds_t)size, 0) < 0)
        return -1;
    long open = 0;
    for (long i = 0; i < size; i++)
        open += !(m->poll_set[i].revents & POLLNVAL);
    return open;
}

/* The first two fields of /proc/self/statm: the process's size and resident set, in pages. */
static int memory_pages(uint64_t *size, uint64_t *resident)
{
    char text[128], *end;
    if (read_proc("/proc/self/statm", text, sizeof(text)) <= 0)
        return -1;
    *size = strtoull(text, &end, 10);
    *resident = strtoull(end, &end, 10);
    return *end == ' ' || *end == '\n' ? 0 : -1;
}

/* The standard process_* metrics of Prometheus client libraries, for this process. */
static void process_metrics(page *p, metrics *m)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        long usec = ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        family(p, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
        emit(p, "process_cpu_seconds_total %ld.%06ld\n",
             (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + usec / 1000000, usec % 1000000);
    }
    uint64_t size_pages, resident_pages;
    if (memory_pages(&size_pages, &resident_pages) == 0) {
        uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
        metric_u64(p, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                   size_pages * page_size);
        metric_u64(p, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                   resident_pages * page_size);
    }
    long fds = open_fds(m);
    if (fds >= 0)
        metric_u64(p, "process_open_fds", "gauge", "Open file descriptors.", (uint64_t)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metric_u64(p, "process_max_fds", "gauge", "The limit on open file descriptors.",
                   (uint64_t)rl.rlim_cur);
    family(p, "process_start_time_seconds", "gauge",
           "When the server started, in seconds since the Unix epoch.");
    emit(p, "process_start_time_seconds %lld.%03ld\n", (long long)m->started.tv_sec,
         m->started.tv_nsec / 1000000);
}

size_t metrics_render(metrics *m, char *buf, size_t cap)
{
    page p = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    family(&p, "greeter_build_info", "gauge", "Always 1; the labels describe the running server.");
    emit(&p, "greeter_build_info{version=\"%s\",model=\"%s\",transport=\"%s\",tls=\"%s\"} 1\n",
         version_string(), m->info.model, m->info.transport,
         m->info.tls ? "on" : "off");
    counters(&p, m->stats);
    worker_gauges(&p, m);
    queue_gauges(&p, m);
    backlog_gauges(&p, m);
    duration_histogram(&p, m->stats);
    process_metrics(&p, m);
    return p.len;
}

static size_t render_page(void *arg, char *buf, size_t cap)
{
    return metrics_render(arg, buf, cap);
}

int metrics_parse_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
                       char *err, size_t errlen)
{
    char why[128];
    if (spec[0] != '\0' && strspn(spec, "0123456789") == strlen(spec)) {
        snprintf(host, hostlen, "%s", DEFAULT_HOST); /* a bare number is a port, not a host */
        snprintf(port, portlen, "%s", spec);
    } else if (addr_split(spec, host, hostlen, port, portlen, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "--metrics: %s", why);
        return -1;
    }
    if (port[0] == '\0') {
        snprintf(err, errlen, "--metrics: '%s' has no port (give PORT, or HOST:PORT)", spec);
        return -1;
    }
    unsigned number;
    if (addr_parse_port(port, SOCK_STREAM, &number, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "--metrics: %s", why);
        return -1;
    }
    if (host[0] == '\0') /* ":PORT": the loopback, not every address as -H '' would mean */
        snprintf(host, hostlen, "%s", DEFAULT_HOST);
    return 0;
}

static int is_tcp_listener(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    return fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
           ti.tcpi_state == TCP_LISTEN;
}

metrics *metrics_start(const char *spec, server_stats *stats, const metrics_info *info, char *err,
                       size_t errlen)
{
    char host[ADDR_HOSTLEN], port[ADDR_PORTLEN];
    if (metrics_parse_spec(spec, host, sizeof(host), port, sizeof(port), err, errlen) < 0)
        return NULL;
    metrics *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(err, errlen, "metrics: out of memory");
        return NULL;
    }
    m->stats = stats;
    m->info = *info;
    m->backlog_known = is_tcp_listener(info->listen_fd);
    clock_gettime(CLOCK_REALTIME, &m->started);
    pthread_mutex_init(&m->lock, NULL);
    m->http = metrics_http_start(host, port, render_page, m, err, errlen);
    if (m->http == NULL) {
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
    }
    return m;
}

void metrics_name(const metrics *m, char *buf, size_t len)
{
    metrics_http_name(m->http, buf, len);
}

void metrics_watch_queue(metrics *m, conn_queue *queue)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->queue = queue;
    pthread_mutex_unlock(&m->lock);
}

void metrics_stop(metrics *m)
{
    if (m == NULL)
        return;
    metrics_http_stop(m->http);
    pthread_mutex_destroy(&m->lock);
    free(m->poll_set);
    free(m);
}
