/* metrics.h -- the server's counters and gauges as a Prometheus text page, served on --metrics. */
#ifndef GREETER_METRICS_H
#define GREETER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the page says about this server besides its counters. Strings must outlive it. */
typedef struct metrics_info {
    const char *model;     /* "pool", ... */
    const char *transport; /* "tcp", "udp" or "unix" */
    int tls;               /* serving TLS */
    uint64_t workers;      /* the most connections the model serves at once */
    int listen_fd;         /* the listener, for its backlog when it is TCP; -1: none */
    /* The event model's further listeners on listen_fd's address, one per further loop, each
     * with an accept queue of its own: the backlog gauges add them up. Owned by the caller,
     * open until metrics_stop. */
    const int *loop_fds;
    int loop_count;
} metrics_info;

typedef struct metrics metrics;

/*
 * Checks a --metrics value without I/O: "PORT", ":PORT" (both on 127.0.0.1), "HOST:PORT" or
 * "[V6]:PORT", and fills host and port. 0, or -1 with err naming the problem.
 */
int metrics_parse_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
                       char *err, size_t errlen);

/*
 * Serves the page on spec (see metrics_parse_spec) from a thread of its own until
 * metrics_stop. stats must stay mapped until then. Returns the server (the caller owns it) or
 * NULL with "--metrics: bind 127.0.0.1:9464: Address already in use" in err.
 */
metrics *metrics_start(const char *spec, server_stats *stats, const metrics_info *info, char *err,
                       size_t errlen);

/* The address served, as HOST:PORT. */
void metrics_name(const metrics *m, char *buf, size_t len);

/* The pool's queue, for the queue gauges; NULL before the queue goes away. A NULL m (no
 * --metrics) is a no-op, so models call this unconditionally. */
void metrics_watch_queue(metrics *m, conn_queue *queue);

/* Stops serving and frees m. NULL is a no-op. */
void metrics_stop(metrics *m);

/* Writes the page into buf (cap bytes); returns its length. The page is cut short (and then
 * not valid) only when cap is too small: METRICS_HTTP_BODY_MAX always suffices. */
size_t metrics_render(metrics *m, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
