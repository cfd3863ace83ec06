/* tls_stub.c -- the TLS API when built without OpenSSL: every call says TLS is not built in. */
#include "tls.h"

#include <stdio.h>

int tls_available(void)
{
    return 0;
}

static void not_built_in(char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", TLS_NOT_BUILT_IN);
}

int tls_check_groups(const char *list, char *err, size_t errlen)
{
    (void)list;
    not_built_in(err, errlen);
    return -1;
}

tls_ctx *tls_ctx_new_server(const tls_server_opts *opts, char *err, size_t errlen)
{
    (void)opts;
    not_built_in(err, errlen);
    return NULL;
}

tls_ctx *tls_ctx_new_client(const tls_client_opts *opts, char *err, size_t errlen)
{
    (void)opts;
    not_built_in(err, errlen);
    return NULL;
}

void tls_ctx_free(tls_ctx *ctx)
{
    (void)ctx;
}

tls_conn *tls_conn_new(tls_ctx *ctx, int fd, const char *servername, char *err, size_t errlen)
{
    (void)ctx, (void)fd, (void)servername;
    not_built_in(err, errlen);
    return NULL;
}

void tls_conn_free(tls_conn *conn)
{
    (void)conn;
}

tls_io_result tls_handshake(tls_conn *conn)
{
    (void)conn;
    return TLS_IO_FAILED;
}

tls_io_result tls_read(tls_conn *conn, void *buf, size_t len, size_t *got)
{
    (void)conn, (void)buf, (void)len;
    *got = 0;
    return TLS_IO_FAILED;
}

tls_io_result tls_write(tls_conn *conn, const void *buf, size_t len, size_t *written)
{
    (void)conn, (void)buf, (void)len;
    *written = 0;
    return TLS_IO_FAILED;
}

tls_io_result tls_shutdown(tls_conn *conn)
{
    (void)conn;
    return TLS_IO_FAILED;
}

void tls_hold_sends(tls_conn *conn)
{
    (void)conn;
}

int tls_push(tls_conn *conn)
{
    (void)conn;
    return 0;
}

tls_io_result tls_await_close_notify(tls_conn *conn)
{
    (void)conn;
    return TLS_IO_FAILED;
}

const char *tls_last_error(const tls_conn *conn)
{
    (void)conn;
    return TLS_NOT_BUILT_IN;
}

int tls_handshake_rest_is_light(const tls_conn *conn)
{
    (void)conn;
    return 0;
}

int tls_conn_resumed(const tls_conn *conn)
{
    (void)conn;
    return 0;
}

const char *tls_conn_version(const tls_conn *conn)
{
    (void)conn;
    return "";
}

const char *tls_conn_cipher(const tls_conn *conn)
{
    (void)conn;
    return "";
}

int tls_handshake_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen)
{
    (void)conn, (void)deadline_ns;
    not_built_in(err, errlen);
    return -1;
}

int tls_write_all_until(tls_conn *conn, const void *buf, size_t len, uint64_t deadline_ns,
                        size_t *written, char *err, size_t errlen)
{
    (void)conn, (void)buf, (void)len, (void)deadline_ns;
    if (written)
        *written = 0;
    not_built_in(err, errlen);
    return -1;
}

int tls_shutdown_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen)
{
    (void)conn, (void)deadline_ns;
    not_built_in(err, errlen);
    return -1;
}

int tls_await_close_notify_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen)
{
    (void)conn, (void)deadline_ns;
    not_built_in(err, errlen);
    return -1;
}

int tls_read_until(tls_conn *conn, void *buf, size_t len, size_t *got, uint64_t deadline_ns,
                   char *err, size_t errlen)
{
    (void)conn, (void)buf, (void)len, (void)deadline_ns;
    *got = 0;
    not_built_in(err, errlen);
    return -1;
}

int tls_read_until_eof(tls_conn *conn, void *buf, size_t len, size_t *got, uint64_t deadline_ns,
                       char *err, size_t errlen)
{
    return tls_read_until(conn, buf, len, got, deadline_ns, err, errlen);
}
