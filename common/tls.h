/* tls.h -- the TLS wrapper (OpenSSL) shared by the server, the client and loadgen. */
#ifndef GREETER_TLS_H
#define GREETER_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Built from tls.c when OpenSSL is found, from tls_stub.c otherwise: then tls_available()
 * is 0 and every call fails with TLS_NOT_BUILT_IN, so callers need no #ifdef.
 *
 * Error convention: setup calls return NULL (or -1) and fill the caller's err buffer with one
 * line "what: why", e.g. "--tls-cert server.pem: No such file or directory" or
 * "--tls-key key.pem: does not match the certificate in cert.pem". The messages name the
 * command-line options every tool shares (--tls-cert, --tls-key, --tls-ca, --tls-client-ca).
 * Step I/O calls return a tls_io_result; after TLS_IO_FAILED, tls_last_error() says why, e.g.
 * "certificate verify failed: certificate has expired" or "peer did not speak TLS".
 *
 * Threads: a tls_ctx is read-only after creation and may be shared by any number of threads;
 * a tls_conn belongs to one thread at a time. OpenSSL's error queue is cleared before and
 * consumed after every call here, so no stale error leaks between connections.
 *
 * Signals: the transport sends with MSG_NOSIGNAL, so no call here raises SIGPIPE.
 */
#define TLS_ERRLEN 256
#define TLS_NOT_BUILT_IN "TLS support is not built in (rebuild with OpenSSL: apt-get install libssl-dev)"

/* Protocol versions for min_version / max_version; 0 means the default (1.2 .. 1.3). */
#define TLS_VERSION_1_2 12
#define TLS_VERSION_1_3 13

typedef enum {
    TLS_IO_DONE = 0,       /* the step completed (for read/write: *got / *written > 0) */
    TLS_IO_WANT_READ = 1,  /* call again when the descriptor is readable */
    TLS_IO_WANT_WRITE = 2, /* call again when the descriptor is writable */
    TLS_IO_CLOSED = 3,     /* the peer sent close_notify: a clean end of the stream */
    TLS_IO_FAILED = 4      /* fatal: tls_last_error() says why; only tls_conn_free is left */
} tls_io_result;

typedef struct tls_ctx tls_ctx;
typedef struct tls_conn tls_conn;

typedef struct tls_server_opts {
    const char *cert_file;      /* PEM: the leaf first, then any intermediates (required) */
    const char *key_file;       /* PEM private key matching the leaf, unencrypted (required) */
    const char *client_ca_file; /* NULL: no client certificates; else required and verified */
    int min_version;            /* 0 or TLS_VERSION_1_2, or TLS_VERSION_1_3 */
    int max_version;            /* 0 (the highest) or TLS_VERSION_1_2 */
    int no_resumption;          /* 1: no session cache and no session tickets */
    const char *groups;         /* key exchange groups, "A:B:C"; NULL: TLS_DEFAULT_GROUPS */
} tls_server_opts;

/* The key exchange groups a server offers unless told otherwise: elliptic curves only. A
 * finite-field group (ffdhe2048 .. ffdhe8192) costs the server 10-100 ms of CPU per
 * handshake, against about 1 ms for X25519, so a client could spend the server's CPU. */
#define TLS_DEFAULT_GROUPS "X25519:P-256:P-384"

typedef struct tls_client_opts {
    const char *ca_file;   /* trusted CAs (PEM); NULL: the system's default store */
    const char *cert_file; /* client certificate for mutual TLS, or NULL (then key_file NULL) */
    const char *key_file;
    int insecure;          /* 1: do not verify the server's certificate or name */
    int min_version;       /* as in tls_server_opts */
    int max_version;
    int reuse_sessions;    /* 1: offer the context's last session on each new connection */
} tls_client_opts;

/* Checks a colon-separated list of key exchange groups (--tls-groups): every name known to
 * OpenSSL, none finite-field (ffdhe*). 0, or -1 with err naming the group and why. */
int tls_check_groups(const char *list, char *err, size_t errlen);

/* 1 when built with OpenSSL, 0 otherwise. */
int tls_available(void);

/* Parses "1.2" or "1.3" (--tls-min) into TLS_VERSION_1_2 / TLS_VERSION_1_3; -1 otherwise. */
static inline int tls_parse_version(const char *text)
{
    if (text && strcmp(text, "1.2") == 0)
        return TLS_VERSION_1_2;
    if (text && strcmp(text, "1.3") == 0)
        return TLS_VERSION_1_3;
    return -1;
}

/*
 * A server context: loads the certificate chain and the key and checks they match, sets the
 * versions, ECDHE+AEAD cipher suites for TLS 1.2, no renegotiation, no compression; with
 * client_ca_file, mutual TLS. Returns a context the caller frees with tls_ctx_free, or NULL
 * with err filled. Create it before fork() to share session-ticket keys among processes.
 */
tls_ctx *tls_ctx_new_server(const tls_server_opts *opts, char *err, size_t errlen);

/*
 * A client context. Unless insecure, the server's chain is verified against ca_file (or the
 * system store) and its name against the servername given to tls_conn_new.
 * With reuse_sessions, the context keeps the newest resumable session it was handed (one slot,
 * guarded by a mutex) and offers it on every new connection; use one context per target server.
 * Threads may share it, but one context per thread (as loadgen does) shares no session at all,
 * which also keeps ThreadSanitizer quiet: OpenSSL 3.0's reference counts confuse it
 * (openssl/openssl#25660). OpenSSL marks a session not resumable when its connection is freed
 * without tls_shutdown: send close_notify before tls_conn_free to keep it reusable.
 * Returns a context to free with tls_ctx_free, or NULL with err.
 */
tls_ctx *tls_ctx_new_client(const tls_client_opts *opts, char *err, size_t errlen);

/* Frees a context (and its cached session). Connections made from it must be freed first. */
void tls_ctx_free(tls_ctx *ctx);

/*
 * Wraps the connected stream socket fd (not owned: tls_conn_free does not close it) and puts
 * it into non-blocking mode. On a client context, servername (may be NULL: no name check)
 * is sent as SNI and checked against the certificate; an IPv4/IPv6 literal is checked as an
 * IP address and not sent as SNI. Returns the connection (free with tls_conn_free) or NULL.
 */
tls_conn *tls_conn_new(tls_ctx *ctx, int fd, const char *servername, char *err, size_t errlen);

/* Frees the connection; does not close its descriptor or send close_notify. NULL is fine. */
void tls_conn_free(tls_conn *conn);

/* Non-blocking steps for event loops: each returns DONE, WANT_READ/WANT_WRITE (wait on the fd,
 * call again), CLOSED (tls_read and tls_write only) or FAILED. After FAILED every step fails
 * again at once: the connection is done. */
tls_io_result tls_handshake(tls_conn *conn);

/* Reads up to len bytes into buf; DONE with *got > 0, or CLOSED at close_notify. A peer that
 * closes the socket without close_notify is FAILED ("unexpected EOF ..."). */
tls_io_result tls_read(tls_conn *conn, void *buf, size_t len, size_t *got);

/* Writes up to len bytes; DONE with *written > 0 (maybe fewer than len). After WANT_*, call
 * again with the same unwritten bytes (the buffer may move). */
tls_io_result tls_write(tls_conn *conn, const void *buf, size_t len, size_t *written);

/* Sends close_notify; DONE once it is written (after tls_hold_sends, held until the socket
 * is shut down for writing). Does not wait for the peer's: close the socket afterwards
 * (net_close_graceful drains unread input so no reset destroys it). */
tls_io_result tls_shutdown(tls_conn *conn);

/*
 * Server, TCP: the records written after the handshake flight (with TLS 1.3 the session
 * ticket; the greeting; close_notify) go to the kernel with MSG_MORE, which keeps them until
 * the socket is shut down for writing or tls_push: they leave in one segment, with the FIN
 * that shutdown(fd, SHUT_WR) adds, instead of a segment each, and each segment costs both sides
 * a wake-up. (The kernel lets them out by itself only when an ACK comes while nothing is in
 * flight, or after about 200 ms: never rely on that.) Call it once, after tls_conn_new; then
 * call tls_push before every wait on the peer (after WANT_READ or WANT_WRITE), and end with
 * shutdown(fd, SHUT_WR) after tls_shutdown. The blocking helpers below push before they wait.
 * A pause of the caller's own between the handshake and the greeting may keep the ticket: the
 * FIN sends it.
 */
void tls_hold_sends(tls_conn *conn);

/* Sends what tls_hold_sends held back, if anything: sets TCP_NODELAY, which flushes, and
 * leaves Nagle's algorithm off (later records are still held). On a socket that is not TCP
 * (UNIX), where nothing is held, it stops holding. 0, or -1 with errno. */
int tls_push(tls_conn *conn);

/*
 * After tls_shutdown (and, for a server, shutdown(fd, SHUT_WR) so the FIN travels with the
 * close_notify: required after tls_hold_sends, since it sends what was held): reads until the
 * peer answers with its own close_notify, discarding any application data up to
 * TLS_DISCARD_LIMIT bytes. DONE once there is nothing left to wait for
 * (close_notify, or the peer's EOF or reset); WANT_READ: wait on the fd and call again; FAILED
 * when the peer sent too much. Closing the socket then cannot reset a close_notify in flight,
 * and, unlike draining the socket until EOF, it does not wait for the FIN that trails it.
 */
#define TLS_DISCARD_LIMIT 65536
tls_io_result tls_await_close_notify(tls_conn *conn);

/* Why the last step failed, as one line; "" when nothing failed. Owned by conn. */
const char *tls_last_error(const tls_conn *conn);

/* Server side, while the handshake waits: 1 when all that is left of it is the client's
 * Finished (the server's Finished is out and no client certificate is to be verified), so
 * the next step is light symmetric work (checking it, a session ticket) rather than a key
 * exchange or a signature check; else 0. */
int tls_handshake_rest_is_light(const tls_conn *conn);

/* After the handshake: 1 when the session was resumed, else 0. */
int tls_conn_resumed(const tls_conn *conn);

/* After the handshake: "TLSv1.3", and the cipher suite name, e.g. "TLS_AES_256_GCM_SHA384".
 * Static strings; "" when unknown. */
const char *tls_conn_version(const tls_conn *conn);
const char *tls_conn_cipher(const tls_conn *conn);

/*
 * Blocking helpers for thread-per-connection code and the client, built on the steps above
 * with poll(). deadline_ns is on CLOCK_MONOTONIC (clock_now_ns()); 0 means no bound. EINTR is
 * retried. On failure they return -1 with "TLS handshake: timed out" or tls_last_error() in
 * err (err may be NULL).
 */
int tls_handshake_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen);

/* Writes all of buf; 0 or -1. *written (may be NULL) gets the bytes sent even on failure. */
int tls_write_all_until(tls_conn *conn, const void *buf, size_t len, uint64_t deadline_ns,
                        size_t *written, char *err, size_t errlen);

/* Sends close_notify; 0 once sent, -1 on failure or timeout. */
int tls_shutdown_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen);

/* tls_await_close_notify with poll(): 0 when done, -1 on failure or timeout. */
int tls_await_close_notify_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen);

/* Waits for and reads some bytes: 1 with *got > 0, 0 at the peer's close_notify, -1 on failure
 * or timeout. */
int tls_read_until(tls_conn *conn, void *buf, size_t len, size_t *got, uint64_t deadline_ns,
                   char *err, size_t errlen);

/* Reads until close_notify or until buf (len bytes) is full; *got gets the count either way.
 * 0 at close_notify, 1 when buf filled first, -1 on failure or timeout. */
int tls_read_until_eof(tls_conn *conn, void *buf, size_t len, size_t *got, uint64_t deadline_ns,
                       char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
