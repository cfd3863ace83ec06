/* metrics_http.h -- a tiny HTTP/1.x listener, on its own thread, that answers GET /metrics and nothing else. */
#ifndef GREETER_METRICS_HTTP_H
#define GREETER_METRICS_HTTP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds on what one client may cost: the request line and headers must arrive within
 * METRICS_HTTP_TIMEOUT_MS of the connection and fit METRICS_HTTP_REQUEST_MAX bytes; the answer
 * must be taken within the same time again. At most METRICS_HTTP_CONNS clients are held at
 * once; one more evicts the one held longest, so idle connections cannot lock scrapes out. */
#define METRICS_HTTP_TIMEOUT_MS 2000
#define METRICS_HTTP_REQUEST_MAX 4096
#define METRICS_HTTP_CONNS 16
#define METRICS_HTTP_BODY_MAX ((size_t)64 * 1024)

/* Writes the page into buf (cap bytes) and returns its length (at most cap). Called on the
 * listener's thread, once per GET /metrics. */
typedef size_t (*metrics_render_fn)(void *arg, char *buf, size_t cap);

typedef struct metrics_http metrics_http;

/*
 * Binds host:port (addr.h rules; SO_REUSEPORT, so that a new server taking over in an upgrade
 * can bind while the old one drains) and starts the thread that serves it. GET (or HEAD)
 * /metrics gets render's page as text/plain; version=0.0.4; /ready answers 200 or, while
 * draining, 503 (metrics_http_is_ready_request); other paths 404, other methods
 * 405, malformed requests 400, oversized ones 431, slow ones 408 or a close. One request per
 * connection. Returns the listener (owned by the caller until metrics_http_stop) or NULL with
 * "metrics: bind 127.0.0.1:9464: Address already in use" in err.
 */
metrics_http *metrics_http_start(const char *host, const char *port, metrics_render_fn render,
                                 void *arg, char *err, size_t errlen);

/* The bound address as HOST:PORT (the port the kernel chose for port 0). */
void metrics_http_name(const metrics_http *h, char *buf, size_t len);

/* Stops the thread, closes every connection and the listener, frees h. NULL is a no-op. */
void metrics_http_stop(metrics_http *h);

/* The answer to one request (exposed for the unit tests): its status, and whether it carries
 * the page. request is the request line and headers, NUL-terminated. */
int metrics_http_status(const char *request, int *wants_body);

/* 1 when the request asks for /ready: 200 "ready" while the server serves, 503 "draining" from
 * the stop signal on (a readiness probe that is no client of the greeting port). */
int metrics_http_is_ready_request(const char *request);

#ifdef __cplusplus
}
#endif
#endif
