/* transport_tls.c -- the TLS transport: common/tls.h's non-blocking steps over a stream. */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"

/* One per loadgen thread: its own client context (so --tls-resume's one cached session is the
 * thread's, and no lock is shared between threads) and the name every connection checks. */
typedef struct tls_thread {
    tls_ctx *ctx;
    char servername[ADDR_HOSTLEN]; /* "" = no name check (--unix without --servername) */
    char setup_error[TLS_ERRLEN];  /* why the last tls_conn_new failed */
} tls_thread;

/* The name to check: --servername, else the target's host; none for a UNIX socket. */
static int pick_servername(const lg_config *cfg, tls_thread *t, char *err, size_t errlen)
{
    char port[ADDR_PORTLEN];
    if (cfg->servername) {
        snprintf(t->servername, sizeof(t->servername), "%s", cfg->servername);
        return 0;
    }
    if (cfg->unix_path)
        return 0;
    return addr_split(cfg->target, t->servername, sizeof(t->servername), port, sizeof(port),
                      err, errlen);
}

/* Returns the thread's context (freed by tls_thread_free), or NULL with err. */
static void *tls_thread_new(const lg_config *cfg, char *err, size_t errlen)
{
    tls_client_opts opts = {
        .ca_file = cfg->tls_ca,
        .cert_file = cfg->tls_cert,
        .key_file = cfg->tls_key,
        .insecure = cfg->insecure,
        .min_version = cfg->tls_min,
        .reuse_sessions = cfg->tls_resume,
    };
    tls_thread *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    if (pick_servername(cfg, t, err, errlen) != 0 ||
        !(t->ctx = tls_ctx_new_client(&opts, err, errlen))) {
        free(t);
        return NULL;
    }
    return t;
}

static void tls_thread_free(void *thread_ctx)
{
    tls_thread *t = thread_ctx;
    if (!t)
        return;
    tls_ctx_free(t->ctx);
    free(t);
}

static transport_result from_tls(tls_io_result r)
{
    switch (r) {
    case TLS_IO_DONE: return TRANSPORT_DONE;
    case TLS_IO_WANT_READ:
    case TLS_IO_WANT_WRITE: return TRANSPORT_AGAIN; /* the engine waits on both edges */
    case TLS_IO_CLOSED: return TRANSPORT_EOF;
    default: return TRANSPORT_FAILED;
    }
}

/* The first step wraps the socket; each step after that advances the handshake. */
static transport_result tls_step_handshake(void *thread_ctx, transport_conn *tc)
{
    tls_thread *t = thread_ctx;
    if (!tc->state) {
        const char *name = t->servername[0] ? t->servername : NULL;
        tc->state = tls_conn_new(t->ctx, tc->fd, name, t->setup_error, sizeof(t->setup_error));
        if (!tc->state)
            return TRANSPORT_FAILED;
    }
    return from_tls(tls_handshake(tc->state));
}

static transport_result tls_step_read(transport_conn *tc, char *buf, size_t len, size_t *n)
{
    return from_tls(tls_read(tc->state, buf, len, n));
}

static transport_result tls_step_write(transport_conn *tc, const char *buf, size_t len,
                                       size_t *n)
{
    return from_tls(tls_write(tc->state, buf, len, n));
}

static const char *tls_failure(void *thread_ctx, const transport_conn *tc)
{
    const tls_thread *t = thread_ctx;
    return tc->state ? tls_last_error(tc->state) : t->setup_error;
}

static int tls_resumed(const transport_conn *tc)
{
    return tc->state && tls_conn_resumed(tc->state);
}

/* Answers with our close_notify (one non-blocking try, the outcome does not matter) before
 * freeing: OpenSSL marks the session of a connection freed without it not resumable, and with
 * --tls-resume that session is the one the thread offers next. */
static void tls_close(transport_conn *tc)
{
    if (tc->state)
        (void)tls_shutdown(tc->state);
    tls_conn_free(tc->state);
    tc->state = NULL;
    close(tc->fd);
    tc->fd = -1;
}

const transport transport_tls = {
    .name = "tls",
    .socktype = SOCK_STREAM,
    .timed_handshake = 1,
    .thread_new = tls_thread_new,
    .thread_free = tls_thread_free,
    .handshake = tls_step_handshake,
    .read = tls_step_read,
    .write = tls_step_write,
    .failure = tls_failure,
    .resumed = tls_resumed,
    .close = tls_close,
};
