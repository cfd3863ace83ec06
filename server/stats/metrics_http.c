/* metrics_http.c -- a tiny HTTP/1.x listener, on its own thread, that answers GET /metrics and GET /ready and nothing else. */
#include "metrics_http.h"

#include "clock.h"
#include "net.h"
#include "shutdown.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes of a client's leftovers we read and drop after answering, so that closing does not
 * meet unread input with a reset that could destroy the answer in flight. */
#define DRAIN_LIMIT ((size_t)64 * 1024)
#define HEADER_MAX 256
/* Out of descriptors, the listener stays readable: it is left alone this long rather than
 * polled in a busy loop (the greeting side, which ran out first, matters more). */
#define PAUSE_AFTER_EMFILE_NS 100000000u

typedef enum { CONN_FREE = 0, CONN_READING, CONN_WRITING, CONN_DRAINING } conn_state;

typedef struct http_conn {
    int fd;
    conn_state state;
    uint64_t since_ns;    /* when it was accepted: the oldest is evicted first */
    uint64_t deadline_ns; /* the end of the current phase */
    size_t in_len, drained;
    char in[METRICS_HTTP_REQUEST_MAX + 1];
    char *out; /* the whole answer, owned here until the connection closes */
    size_t out_len, out_sent;
} http_conn;

/* Everything is touched by the listener's thread only, but for stop_pipe's write end. */
struct metrics_http {
    int listen_fd;
    uint64_t listen_paused_until_ns; /* 0: listening */
    int stop_pipe[2];
    pthread_t thread;
    metrics_render_fn render;
    void *arg;
    char *body; /* METRICS_HTTP_BODY_MAX bytes: render's scratch space */
    http_conn conns[METRICS_HTTP_CONNS];
};

static uint64_t deadline_from_now(void)
{
    return clock_now_ns() + (uint64_t)METRICS_HTTP_TIMEOUT_MS * 1000000u;
}

/* shutdown() first: a forked child of the fork model may hold a copy of fd, and the client
 * must see our end of the connection close now, not when that child exits. */
static void conn_close(http_conn *c)
{
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Does the request's target name path (a query string is ignored)? */
static int path_is(const char *target, size_t len, const char *path)
{
    size_t n = strlen(path);
    return len >= n && memcmp(target, path, n) == 0 && (len == n || target[n] == '?');
}

int metrics_http_is_ready_request(const char *request)
{
    const char *sp1 = strchr(request, ' ');
    if (sp1 == NULL)
        return 0;
    const char *end = sp1 + 1 + strcspn(sp1 + 1, " \r\n");
    return path_is(sp1 + 1, (size_t)(end - sp1 - 1), "/ready");
}

int metrics_http_status(const char *request, int *wants_body)
{
    *wants_body = 0;
    const char *eol = strchr(request, '\n');
    size_t line_len = eol ? (size_t)(eol - request) : strlen(request);
    if (line_len > 0 && request[line_len - 1] == '\r')
        line_len--;
    const char *sp1 = memchr(request, ' ', line_len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', line_len - (size_t)(sp1 + 1 - request)) : NULL;
    if (sp1 == NULL || sp2 == NULL || sp1 == request || sp2 == sp1 + 1 || sp1[1] != '/')
        return 400;
    size_t version_len = line_len - (size_t)(sp2 + 1 - request);
    if (version_len != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
        return 400;
    size_t target_len = (size_t)(sp2 - sp1 - 1);
    if (!path_is(sp1 + 1, target_len, "/metrics") && !path_is(sp1 + 1, target_len, "/ready"))
        return 404;
    size_t method_len = (size_t)(sp1 - request);
    if (method_len == 3 && memcmp(request, "GET", 3) == 0) {
        *wants_body = 1;
        return 200;
    }
    return method_len == 4 && memcmp(request, "HEAD", 4) == 0 ? 200 : 405;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 503: return "Service Unavailable";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
    }
}

/* What an error answer says, so that a person with curl learns what to ask instead. */
static const char *error_text(int status)
{
    switch (status) {
    case 404: return "not found: this port serves only /metrics and /ready\n";
    case 503: return "draining\n";
    case 405: return "method not allowed: use GET /metrics\n";
    case 408: return "request timeout: send the whole request at once\n";
    case 431: return "request too large\n";
    default: return "bad request: expected GET /metrics HTTP/1.1\n";
    }
}

/* Builds the answer into c->out and switches c to writing. ready: the request was GET /ready,
 * which says 200 "ready" while the server serves and 503 "draining" once it stops accepting
 * (a balancer's or Kubernetes' readiness probe; it is no client of the greeting port). */
static void conn_answer(metrics_http *h, http_conn *c, int status, int with_body, int ready)
{
    if (ready && status == 200 && shutdown_requested())
        status = 503;
    const char *body = ready && status == 200 ? "ready\n" : error_text(status);
    size_t body_len = strlen(body);
    if (status == 200 && !ready) {
        body = h->body;
        body_len = h->render(h->arg, h->body, METRICS_HTTP_BODY_MAX);
    }
    char head[HEADER_MAX];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, reason(status),
                     status == 200 && !ready ? "text/plain; version=0.0.4; charset=utf-8"
                                             : "text/plain",
                     body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
    size_t head_len = (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1;
    size_t total = head_len + (with_body || (status != 200 && status != 503) ? body_len : 0);
    c->out = malloc(total);
    if (c->out == NULL) {
        conn_close(c);
        return;
    }
    memcpy(c->out, head, head_len);
    memcpy(c->out + head_len, body, total - head_len);
    c->out_len = total;
    c->out_sent = 0;
    c->state = CONN_WRITING;
    c->deadline_ns = deadline_from_now();
}

/* The end of the headers, or NULL while they are still coming. */
static const char *headers_end(const char *in)
{
    const char *crlf = strstr(in, "\r\n\r\n"), *lf = strstr(in, "\n\n");
    return crlf && (!lf || crlf < lf) ? crlf : lf;
}

static void conn_read(metrics_http *h, http_conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, METRICS_HTTP_REQUEST_MAX - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* gone before asking anything whole */
            conn_close(c);
            return;
        }
        c->in_len += (size_t)n;
        c->in[c->in_len] = '\0';
        if (memchr(c->in + c->in_len - (size_t)n, '\0', (size_t)n) != NULL) {
            conn_answer(h, c, 400, 1, 0); /* a NUL byte: not HTTP */
            return;
        }
        if (headers_end(c->in)) {
            int with_body;
            int status = metrics_http_status(c->in, &with_body);
            conn_answer(h, c, status, with_body, metrics_http_is_ready_request(c->in));
            return;
        }
        if (c->in_len == METRICS_HTTP_REQUEST_MAX) {
            conn_answer(h, c, 431, 1, 0);
            return;
        }
    }
}

/* Sends what is left; once all is out, half-closes and reads the client's leftovers. */
static void conn_write(http_conn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->out_sent += (size_t)n;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_DRAINING;
}

static void conn_drain(http_conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0 || (c->drained += (size_t)n) >= DRAIN_LIMIT)
            break; /* EOF, a reset, or more than we will read */
    }
    conn_close(c);
}

/* A free slot, or the one held longest, closed to make room. */
static http_conn *slot_for_new(metrics_http *h)
{
    http_conn *oldest = &h->conns[0];
    for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
        if (h->conns[i].state == CONN_FREE)
            return &h->conns[i];
        if (h->conns[i].since_ns < oldest->since_ns)
            oldest = &h->conns[i];
    }
    conn_close(oldest);
    return oldest;
}

static void accept_all(metrics_http *h)
{
    for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
        int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
            h->listen_paused_until_ns = clock_now_ns() + PAUSE_AFTER_EMFILE_NS;
        if (fd < 0)
            return; /* EAGAIN, a client gone already, or paused */
        http_conn *c = slot_for_new(h);
        c->fd = fd;
        c->state = CONN_READING;
        c->since_ns = clock_now_ns();
        c->deadline_ns = deadline_from_now();
    }
}

/* Connections past their phase's deadline: a request still coming gets 408, the rest close. */
static void expire(metrics_http *h)
{
    uint64_t now = clock_now_ns();
    for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
        http_conn *c = &h->conns[i];
        if (c->state == CONN_FREE || c->deadline_ns > now)
            continue;
        if (c->state == CONN_READING) {
            conn_answer(h, c, 408, 1, 0);
            if (c->state == CONN_WRITING)
                conn_write(c); /* one try: a client this slow gets no second deadline */
            if (c->state != CONN_FREE)
                conn_close(c);
        } else {
            conn_close(c);
        }
    }
}

static int next_timeout_ms(const metrics_http *h)
{
    uint64_t next = h->listen_paused_until_ns, now = clock_now_ns();
    for (int i = 0; i < METRICS_HTTP_CONNS; i++)
        if (h->conns[i].state != CONN_FREE && (next == 0 || h->conns[i].deadline_ns < next))
            next = h->conns[i].deadline_ns;
    if (next == 0)
        return -1;
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

static void *serve_main(void *arg)
{
    metrics_http *h = arg;
    struct pollfd fds[2 + METRICS_HTTP_CONNS];
    for (;;) {
        fds[0] = (struct pollfd){h->stop_pipe[0], POLLIN, 0};
        if (h->listen_paused_until_ns && h->listen_paused_until_ns <= clock_now_ns())
            h->listen_paused_until_ns = 0;
        fds[1] = (struct pollfd){h->listen_paused_until_ns ? -1 : h->listen_fd, POLLIN, 0};
        for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
            const http_conn *c = &h->conns[i];
            fds[2 + i] = (struct pollfd){c->state == CONN_FREE ? -1 : c->fd,
                                         c->state == CONN_WRITING ? POLLOUT : POLLIN, 0};
        }
        if (poll(fds, 2 + METRICS_HTTP_CONNS, next_timeout_ms(h)) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
            http_conn *c = &h->conns[i];
            if (fds[2 + i].revents == 0 || c->state == CONN_FREE)
                continue;
            if (c->state == CONN_READING)
                conn_read(h, c);
            if (c->state == CONN_WRITING)
                conn_write(c); /* at once: the answer usually fits the socket buffer */
            else if (c->state == CONN_DRAINING)
                conn_drain(c);
        }
        if (fds[1].revents)
            accept_all(h);
        expire(h);
    }
    return NULL;
}

static void release(metrics_http *h)
{
    for (int i = 0; i < METRICS_HTTP_CONNS; i++)
        if (h->conns[i].state != CONN_FREE)
            conn_close(&h->conns[i]);
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    if (h->stop_pipe[0] >= 0) {
        close(h->stop_pipe[0]);
        close(h->stop_pipe[1]);
    }
    free(h->body);
    free(h);
}

metrics_http *metrics_http_start(const char *host, const char *port, metrics_render_fn render,
                                 void *arg, char *err, size_t errlen)
{
    metrics_http *h = calloc(1, sizeof(*h));
    if (h == NULL || (h->body = malloc(METRICS_HTTP_BODY_MAX)) == NULL) {
        snprintf(err, errlen, "metrics: out of memory");
        free(h);
        return NULL;
    }
    h->render = render;
    h->arg = arg;
    h->stop_pipe[0] = h->stop_pipe[1] = -1;
    for (int i = 0; i < METRICS_HTTP_CONNS; i++)
        h->conns[i].fd = -1;
    char why[NET_ERRLEN];
    net_listen_opts opts = {.socktype = SOCK_STREAM, .backlog = 64, .reuseport = 1, .nonblock = 1};
    if ((h->listen_fd = net_listen(host, port, &opts, NULL, why, sizeof(why))) < 0) {
        snprintf(err, errlen, "--metrics: %s", why);
        goto out_release;
    }
    if (pipe2(h->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "metrics: pipe: %s", strerror(errno));
        goto out_release;
    }
    int rc = shutdown_thread_create(&h->thread, NULL, serve_main, h);
    if (rc != 0) {
        snprintf(err, errlen, "metrics: start thread: %s", strerror(rc));
        goto out_release;
    }
    pthread_setname_np(h->thread, "metrics"); /* as top -H and ps -L show it */
    return h;

out_release:
    release(h);
    return NULL;
}

void metrics_http_name(const metrics_http *h, char *buf, size_t len)
{
    net_local_name(h->listen_fd, buf, len);
}

void metrics_http_stop(metrics_http *h)
{
    if (h == NULL)
        return;
    ssize_t ignored = write(h->stop_pipe[1], "x", 1);
    (void)ignored;
    pthread_join(h->thread, NULL);
    release(h);
}
