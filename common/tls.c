/* tls.c -- the TLS wrapper on OpenSSL: contexts, connections, non-blocking steps, deadlines. */
#include "tls.h"

#include "clock.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 keeps OpenSSL's defaults. */
#define TLS12_CIPHERS                                                                      \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls_ctx {
    SSL_CTX *ssl_ctx;
    int is_server;
    int reuse_sessions;           /* client: offer cached_session on new connections */
    pthread_mutex_t session_lock; /* guards cached_session */
    SSL_SESSION *cached_session;  /* client: newest resumable session (owned), or NULL */
};

struct tls_conn {
    SSL *ssl;
    int fd;           /* not owned */
    int failed;       /* a fatal error happened: OpenSSL forbids SSL_shutdown now */
    int hold_sends;   /* tls_hold_sends: the records after the handshake go out with MSG_MORE */
    int held;         /* records went out with MSG_MORE since the last push */
    size_t discarded; /* application bytes thrown away while awaiting the peer's close_notify */
    char error[TLS_ERRLEN];
};

static const char STEP_HANDSHAKE[] = "TLS handshake";
static const char STEP_READ[] = "TLS read";
static const char STEP_WRITE[] = "TLS write";
static const char STEP_SHUTDOWN[] = "TLS shutdown";

int tls_available(void)
{
    return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The reason of the oldest queued OpenSSL error (a static string), then empties the queue. */
static const char *openssl_reason(void)
{
    const char *reason = ERR_reason_error_string(ERR_peek_error());
    ERR_clear_error();
    return reason ? reason : "unknown OpenSSL error";
}

/* ---- the transport: a socket BIO that sends with MSG_NOSIGNAL ---- */

static BIO_METHOD *transport_method;
static pthread_once_t transport_once = PTHREAD_ONCE_INIT;

/* The BIO's data is its tls_conn, which outlives it (tls_conn_free frees the SSL first). */
static int transport_fd(BIO *bio)
{
    return ((tls_conn *)BIO_get_data(bio))->fd;
}

/* With tls_hold_sends: whether what OpenSSL writes now comes after the server's handshake
 * flight (a session ticket, application data, alerts after the handshake). */
static int past_server_flight(const tls_conn *conn)
{
    return SSL_is_init_finished(conn->ssl) || SSL_get_state(conn->ssl) == TLS_ST_SW_SESSION_TICKET;
}

static int transport_write(BIO *bio, const char *buf, int len)
{
    tls_conn *conn = BIO_get_data(bio);
    int hold = conn->hold_sends && past_server_flight(conn);
    ssize_t n;
    BIO_clear_retry_flags(bio);
    do
        n = send(conn->fd, buf, (size_t)len, MSG_NOSIGNAL | (hold ? MSG_MORE : 0));
    while (n < 0 && errno == EINTR);
    if (n > 0 && hold)
        conn->held = 1;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(bio);
    return (int)n;
}

static int transport_read(BIO *bio, char *buf, int len)
{
    ssize_t n;
    BIO_clear_retry_flags(bio);
    do
        n = recv(transport_fd(bio), buf, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        BIO_set_flags(bio, BIO_FLAGS_IN_EOF); /* lets OpenSSL name an unexpected EOF */
    else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(bio);
    return (int)n;
}

static long transport_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)num;
    switch (cmd) {
    case BIO_C_GET_FD:
        if (ptr)
            *(int *)ptr = transport_fd(bio);
        return transport_fd(bio);
    case BIO_CTRL_EOF:
        return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0;
    case BIO_CTRL_FLUSH:
        return 1;
    default:
        return 0;
    }
}

static void transport_init(void)
{
    int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
    BIO_METHOD *method = BIO_meth_new(type, "greeter socket");
    if (!method)
        return;
    BIO_meth_set_write(method, transport_write);
    BIO_meth_set_read(method, transport_read);
    BIO_meth_set_ctrl(method, transport_ctrl);
    transport_method = method; /* kept for the life of the process */
}

/* A BIO on conn's descriptor (not owned), or NULL when out of memory. */
static BIO *transport_new(tls_conn *conn)
{
    BIO *bio;
    pthread_once(&transport_once, transport_init);
    if (!transport_method || !(bio = BIO_new(transport_method)))
        return NULL;
    BIO_set_data(bio, conn);
    BIO_set_init(bio, 1);
    return bio;
}

/* ---- contexts ---- */

/* Applies min/max (0, 12 or 13) to ssl_ctx; -1 with err for values out of range. */
static int set_versions(SSL_CTX *ssl_ctx, int min, int max, char *err, size_t errlen)
{
    int min_ok = min == 0 || min == TLS_VERSION_1_2 || min == TLS_VERSION_1_3;
    int max_ok = max == 0 || max == TLS_VERSION_1_2 || max == TLS_VERSION_1_3;
    if (!min_ok || !max_ok || (max && min > max)) {
        set_err(err, errlen, "TLS versions: minimum %d.%d, maximum %d.%d: use 1.2 or 1.3, min <= max",
                min / 10, min % 10, max / 10, max % 10);
        return -1;
    }
    SSL_CTX_set_min_proto_version(ssl_ctx, min == TLS_VERSION_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ssl_ctx, max == TLS_VERSION_1_2 ? TLS1_2_VERSION : TLS1_3_VERSION);
    return 0;
}

/* A context with the settings both sides share, or NULL with err. Free with tls_ctx_free. */
static tls_ctx *ctx_alloc(const SSL_METHOD *method, int min, int max, char *err, size_t errlen)
{
    tls_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        set_err(err, errlen, "TLS context: out of memory");
        return NULL;
    }
    pthread_mutex_init(&ctx->session_lock, NULL);
    ctx->ssl_ctx = SSL_CTX_new(method);
    if (!ctx->ssl_ctx) {
        set_err(err, errlen, "TLS context: %s", openssl_reason());
        goto out_free_ctx;
    }
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    if (set_versions(ctx->ssl_ctx, min, max, err, errlen) < 0)
        goto out_free_ctx;
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Read what the socket holds in one recv, not each record's header and body apart: a
     * handshake then takes about half the reads on each side (nginx does the same). Every step
     * here reads before it reports WANT_READ, so no record is left waiting in the buffer. */
    SSL_CTX_set_read_ahead(ctx->ssl_ctx, 1);
    if (SSL_CTX_set_cipher_list(ctx->ssl_ctx, TLS12_CIPHERS) != 1) {
        set_err(err, errlen, "TLS cipher list: %s", openssl_reason());
        goto out_free_ctx;
    }
    return ctx;

out_free_ctx:
    tls_ctx_free(ctx);
    return NULL;
}

void tls_ctx_free(tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_SESSION_free(ctx->cached_session);
    SSL_CTX_free(ctx->ssl_ctx);
    pthread_mutex_destroy(&ctx->session_lock);
    free(ctx);
}

/* 0 when path opens for reading, else -1 with "OPTION PATH: strerror". */
static int check_readable(const char *option, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "re");
    if (!fp) {
        set_err(err, errlen, "%s %s: %s", option, path, strerror(errno));
        return -1;
    }
    fclose(fp);
    return 0;
}

/* Refuses to prompt on the terminal for an encrypted key's passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf, (void)size, (void)rwflag, (void)arg;
    return 0;
}

/* Reads an unencrypted PEM private key; the caller frees it. NULL with err on failure. */
static EVP_PKEY *read_private_key(const char *key_file, char *err, size_t errlen)
{
    EVP_PKEY *key;
    FILE *fp = fopen(key_file, "re");
    if (!fp) {
        set_err(err, errlen, "--tls-key %s: %s", key_file, strerror(errno));
        return NULL;
    }
    key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    if (!key)
        set_err(err, errlen, "--tls-key %s: not an unencrypted PEM private key (%s)", key_file,
                openssl_reason());
    return key;
}

/* Loads the certificate chain and the key into ssl_ctx and checks that they match. */
static int load_cert_and_key(SSL_CTX *ssl_ctx, const char *cert_file, const char *key_file,
                             char *err, size_t errlen)
{
    EVP_PKEY *key;
    int ok;
    if (check_readable("--tls-cert", cert_file, err, errlen) < 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert_file) != 1) {
        set_err(err, errlen, "--tls-cert %s: not a PEM certificate chain (%s)", cert_file,
                openssl_reason());
        return -1;
    }
    if (!(key = read_private_key(key_file, err, errlen)))
        return -1;
    ok = X509_check_private_key(SSL_CTX_get0_certificate(ssl_ctx), key) == 1;
    if (!ok)
        set_err(err, errlen, "--tls-key %s: does not match the certificate in %s", key_file, cert_file);
    else if (!(ok = (SSL_CTX_use_PrivateKey(ssl_ctx, key) == 1)))
        set_err(err, errlen, "--tls-key %s: %s", key_file, openssl_reason());
    EVP_PKEY_free(key);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* Mutual TLS: clients must present a certificate that chains to a CA in ca_file. */
static int require_client_certs(SSL_CTX *ssl_ctx, const char *ca_file, char *err, size_t errlen)
{
    STACK_OF(X509_NAME) *names;
    if (check_readable("--tls-client-ca", ca_file, err, errlen) < 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ssl_ctx, ca_file, NULL) != 1 ||
        !(names = SSL_load_client_CA_file(ca_file))) {
        set_err(err, errlen, "--tls-client-ca %s: no PEM certificate found (%s)", ca_file,
                openssl_reason());
        return -1;
    }
    SSL_CTX_set_client_CA_list(ssl_ctx, names); /* takes names */
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return 0;
}

/* Caches the extensions of the context's own and trusted certificates now. OpenSSL does it on
 * first use otherwise, and racily when threads share the context (openssl/openssl#25202). The
 * system store loads certificates lazily, so its own stay exposed. */
static void warm_certificates(SSL_CTX *ssl_ctx)
{
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ssl_ctx));
    STACK_OF(X509) *chain = NULL;
    X509 *own = SSL_CTX_get0_certificate(ssl_ctx);
    int i;
    for (i = 0; i < sk_X509_OBJECT_num(objects); i++) {
        X509 *cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
        if (cert)
            X509_check_purpose(cert, -1, 0);
    }
    if (own)
        X509_check_purpose(own, -1, 0);
    SSL_CTX_get0_chain_certs(ssl_ctx, &chain);
    for (i = 0; i < sk_X509_num(chain); i++)
        X509_check_purpose(sk_X509_value(chain, i), -1, 0);
    ERR_clear_error(); /* successful loads can leave notes behind */
}

/* Session cache and tickets on, or both off. The id context is required for resumption once
 * client certificates are verified, so it is always set. */
static void set_server_resumption(SSL_CTX *ssl_ctx, int on)
{
    static const unsigned char id_context[] = "greeter";
    SSL_CTX_set_session_id_context(ssl_ctx, id_context, sizeof(id_context) - 1);
    if (on) {
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_num_tickets(ssl_ctx, 1); /* clients keep only the newest one */
        return;
    }
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ssl_ctx, 0);
}

/* One group name (len bytes of name) against the rules of tls_check_groups; 0 or -1. */
static int check_group(SSL_CTX *probe, const char *name, size_t len, char *err, size_t errlen)
{
    char one[64];
    if (len == 0 || len >= sizeof(one)) {
        set_err(err, errlen, "'%.*s' is not a group name (give names such as X25519:P-256)",
                (int)(len < sizeof(one) ? len : sizeof(one) - 1), name);
        return -1;
    }
    memcpy(one, name, len);
    one[len] = '\0';
    if (strncasecmp(one, "ffdhe", 5) == 0) {
        set_err(err, errlen,
                "'%s' is refused: a finite-field key exchange costs the server 10-100 ms of CPU "
                "per handshake (X25519 about 1 ms); use elliptic curves (X25519, P-256, P-384, "
                "P-521, X448)",
                one);
        return -1;
    }
    if (SSL_CTX_set1_groups_list(probe, one) != 1) {
        ERR_clear_error();
        set_err(err, errlen, "'%s' is not a group OpenSSL knows (e.g. X25519, P-256, P-384, "
                             "P-521, X448)", one);
        return -1;
    }
    return 0;
}

int tls_check_groups(const char *list, char *err, size_t errlen)
{
    SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
    if (probe == NULL) {
        set_err(err, errlen, "TLS context: %s", openssl_reason());
        return -1;
    }
    int rc = 0;
    for (const char *p = list; rc == 0;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        rc = check_group(probe, p, len, err, errlen);
        if (end == NULL)
            break;
        p = end + 1;
    }
    SSL_CTX_free(probe);
    return rc;
}

/* The key exchange groups the server offers (tls_check_groups' rules); 0, or -1 with err. */
static int set_server_groups(SSL_CTX *ssl_ctx, const char *groups, char *err, size_t errlen)
{
    const char *list = groups ? groups : TLS_DEFAULT_GROUPS;
    if (tls_check_groups(list, err, errlen) < 0)
        return -1;
    if (SSL_CTX_set1_groups_list(ssl_ctx, list) != 1) {
        set_err(err, errlen, "TLS groups '%s': %s", list, openssl_reason());
        return -1;
    }
    return 0;
}

tls_ctx *tls_ctx_new_server(const tls_server_opts *opts, char *err, size_t errlen)
{
    tls_ctx *ctx;
    if (!opts->cert_file || !opts->key_file) {
        set_err(err, errlen, "TLS server: --tls-cert and --tls-key are both required");
        return NULL;
    }
    ERR_clear_error();
    ctx = ctx_alloc(TLS_server_method(), opts->min_version, opts->max_version, err, errlen);
    if (!ctx)
        return NULL;
    ctx->is_server = 1;
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (set_server_groups(ctx->ssl_ctx, opts->groups, err, errlen) < 0)
        goto out_free_ctx;
    if (load_cert_and_key(ctx->ssl_ctx, opts->cert_file, opts->key_file, err, errlen) < 0)
        goto out_free_ctx;
    if (opts->client_ca_file && require_client_certs(ctx->ssl_ctx, opts->client_ca_file, err, errlen) < 0)
        goto out_free_ctx;
    set_server_resumption(ctx->ssl_ctx, !opts->no_resumption);
    warm_certificates(ctx->ssl_ctx);
    return ctx;

out_free_ctx:
    tls_ctx_free(ctx);
    return NULL;
}

/* Called by OpenSSL with each new client session (TLS 1.3: when a ticket arrives after the
 * handshake). Keeps a copy of the newest resumable one: the object itself stays the session
 * of the connection that got it, and a failure of that connection would flag it not
 * resumable (see offer_cached_session). Returns 0: OpenSSL keeps its own reference. */
static int remember_session(SSL *ssl, SSL_SESSION *session)
{
    tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    SSL_SESSION *old, *copy;
    if (!SSL_SESSION_is_resumable(session) || !(copy = SSL_SESSION_dup(session)))
        return 0;
    pthread_mutex_lock(&ctx->session_lock);
    old = ctx->cached_session;
    ctx->cached_session = copy;
    pthread_mutex_unlock(&ctx->session_lock);
    SSL_SESSION_free(old);
    return 0;
}

/* Trusted CAs for verifying servers: ca_file, or the system store when NULL. */
static int load_trust(SSL_CTX *ssl_ctx, const char *ca_file, char *err, size_t errlen)
{
    if (!ca_file) {
        if (SSL_CTX_set_default_verify_paths(ssl_ctx) == 1)
            return 0;
        set_err(err, errlen, "system CA store: %s", openssl_reason());
        return -1;
    }
    if (check_readable("--tls-ca", ca_file, err, errlen) < 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ssl_ctx, ca_file, NULL) == 1)
        return 0;
    set_err(err, errlen, "--tls-ca %s: no PEM certificate found (%s)", ca_file, openssl_reason());
    return -1;
}

tls_ctx *tls_ctx_new_client(const tls_client_opts *opts, char *err, size_t errlen)
{
    tls_ctx *ctx;
    if (!opts->cert_file != !opts->key_file) {
        set_err(err, errlen, "TLS client: --tls-cert and --tls-key go together");
        return NULL;
    }
    ERR_clear_error();
    ctx = ctx_alloc(TLS_client_method(), opts->min_version, opts->max_version, err, errlen);
    if (!ctx)
        return NULL;
    if (opts->cert_file && load_cert_and_key(ctx->ssl_ctx, opts->cert_file, opts->key_file, err, errlen) < 0)
        goto out_free_ctx;
    if (!opts->insecure && load_trust(ctx->ssl_ctx, opts->ca_file, err, errlen) < 0)
        goto out_free_ctx;
    SSL_CTX_set_verify(ctx->ssl_ctx, opts->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (opts->reuse_sessions) {
        ctx->reuse_sessions = 1;
        SSL_CTX_set_session_cache_mode(ctx->ssl_ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx->ssl_ctx, remember_session);
    } else {
        SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_TICKET); /* TLS 1.2: ask for no ticket */
    }
    warm_certificates(ctx->ssl_ctx);
    return ctx;

out_free_ctx:
    tls_ctx_free(ctx);
    return NULL;
}

/* ---- connections ---- */

/* SNI and the name check for a host name; only the check for an IP address literal. */
static int set_peer_name(SSL *ssl, const char *name)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    if (SSL_set_tlsext_host_name(ssl, name) != 1)
        return -1;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

/* Offers a private copy of the context's cached session, if any, for resumption. Not the
 * cached object itself: connections in flight at once would share it, and OpenSSL can flag a
 * session object not resumable through any one of the connections using it; every later
 * connection then offered nothing and did a full handshake until a new ticket came (5-13%
 * of handshakes with many connections in flight). */
static void offer_cached_session(tls_ctx *ctx, SSL *ssl)
{
    if (!ctx->reuse_sessions)
        return;
    pthread_mutex_lock(&ctx->session_lock);
    SSL_SESSION *copy = ctx->cached_session ? SSL_SESSION_dup(ctx->cached_session) : NULL;
    pthread_mutex_unlock(&ctx->session_lock);
    if (copy) {
        SSL_set_session(ssl, copy); /* takes its own reference */
        SSL_SESSION_free(copy);
    }
}

tls_conn *tls_conn_new(tls_ctx *ctx, int fd, const char *servername, char *err, size_t errlen)
{
    BIO *bio;
    tls_conn *conn = calloc(1, sizeof(*conn));
    if (!conn) {
        set_err(err, errlen, "TLS connection: out of memory");
        return NULL;
    }
    ERR_clear_error();
    conn->fd = fd;
    if (!(conn->ssl = SSL_new(ctx->ssl_ctx)) || !(bio = transport_new(conn))) {
        set_err(err, errlen, "TLS connection: %s", openssl_reason());
        goto out_free_conn;
    }
    SSL_set_bio(conn->ssl, bio, bio); /* the SSL owns the BIO now */
    if (net_set_nonblocking(fd, 1) < 0) {
        set_err(err, errlen, "TLS connection: setting non-blocking mode: %s", strerror(errno));
        goto out_free_conn;
    }
    if (ctx->is_server) {
        SSL_set_accept_state(conn->ssl);
        return conn;
    }
    SSL_set_connect_state(conn->ssl);
    if (servername && (!*servername || set_peer_name(conn->ssl, servername) < 0)) {
        set_err(err, errlen, "--servername '%s': %s", servername,
                *servername ? openssl_reason() : "not a host name");
        goto out_free_conn;
    }
    offer_cached_session(ctx, conn->ssl);
    return conn;

out_free_conn:
    tls_conn_free(conn);
    return NULL;
}

void tls_conn_free(tls_conn *conn)
{
    if (!conn)
        return;
    SSL_free(conn->ssl);
    free(conn);
}

/* The peer closed the socket without close_notify. */
static void describe_eof(tls_conn *conn, const char *step)
{
    snprintf(conn->error, sizeof(conn->error), "%s: unexpected EOF (the peer closed the connection %s)",
             step, step == STEP_HANDSHAKE ? "during the handshake" : "without close_notify");
}

/* A failure with reason SSL_R_*: the words a user needs. */
static void describe_ssl_error(tls_conn *conn, const char *step)
{
    unsigned long code = ERR_peek_error();
    int reason = ERR_GET_LIB(code) == ERR_LIB_SSL ? ERR_GET_REASON(code) : 0;
    long verify = SSL_get_verify_result(conn->ssl);
    int in_handshake = step == STEP_HANDSHAKE;

    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK)
        snprintf(conn->error, sizeof(conn->error), "certificate verify failed: %s",
                 X509_verify_cert_error_string(verify));
    else if (in_handshake && (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
                              reason == SSL_R_HTTPS_PROXY_REQUEST))
        snprintf(conn->error, sizeof(conn->error), "peer did not speak TLS (%s)", openssl_reason());
    else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        describe_eof(conn, step);
    else if (code == 0)
        snprintf(conn->error, sizeof(conn->error), "%s: failed, OpenSSL gave no reason", step);
    else
        snprintf(conn->error, sizeof(conn->error), "%s: %s", step, openssl_reason());
}

/* SSL_ERROR_SYSCALL: a socket error, or an EOF when errno is 0. */
static void describe_syscall_error(tls_conn *conn, const char *step, int saved_errno)
{
    if (ERR_peek_error() != 0)
        describe_ssl_error(conn, step);
    else if (saved_errno == 0)
        describe_eof(conn, step);
    else
        snprintf(conn->error, sizeof(conn->error), "%s: %s", step, strerror(saved_errno));
}

/* Maps a failed SSL call (its return ret) to a tls_io_result; a fatal one records why. */
static tls_io_result step_result(tls_conn *conn, int ret, const char *step)
{
    int saved_errno = errno;
    switch (SSL_get_error(conn->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return TLS_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        if (step != STEP_HANDSHAKE)
            return TLS_IO_CLOSED;
        snprintf(conn->error, sizeof(conn->error), "%s: the peer closed the session", step);
        break;
    case SSL_ERROR_SYSCALL:
        describe_syscall_error(conn, step, saved_errno);
        break;
    default:
        describe_ssl_error(conn, step);
        break;
    }
    conn->failed = 1;
    ERR_clear_error();
    return TLS_IO_FAILED;
}

tls_io_result tls_handshake(tls_conn *conn)
{
    int ret;
    if (conn->failed)
        return TLS_IO_FAILED;
    ERR_clear_error();
    errno = 0;
    ret = SSL_do_handshake(conn->ssl);
    return ret == 1 ? TLS_IO_DONE : step_result(conn, ret, STEP_HANDSHAKE);
}

tls_io_result tls_read(tls_conn *conn, void *buf, size_t len, size_t *got)
{
    int ret;
    *got = 0;
    if (conn->failed)
        return TLS_IO_FAILED;
    ERR_clear_error();
    errno = 0;
    ret = SSL_read_ex(conn->ssl, buf, len, got);
    return ret == 1 ? TLS_IO_DONE : step_result(conn, ret, STEP_READ);
}

tls_io_result tls_write(tls_conn *conn, const void *buf, size_t len, size_t *written)
{
    int ret;
    *written = 0;
    if (conn->failed)
        return TLS_IO_FAILED;
    if (len == 0)
        return TLS_IO_DONE;
    ERR_clear_error();
    errno = 0;
    ret = SSL_write_ex(conn->ssl, buf, len, written);
    return ret == 1 ? TLS_IO_DONE : step_result(conn, ret, STEP_WRITE);
}

tls_io_result tls_shutdown(tls_conn *conn)
{
    tls_io_result r;
    int ret;
    if (conn->failed)
        return TLS_IO_FAILED;
    ERR_clear_error();
    errno = 0;
    ret = SSL_shutdown(conn->ssl); /* 0: ours sent; 1: both sides' done */
    if (ret >= 0)
        return TLS_IO_DONE;
    r = step_result(conn, ret, STEP_SHUTDOWN);
    return r == TLS_IO_CLOSED ? TLS_IO_DONE : r;
}

void tls_hold_sends(tls_conn *conn)
{
    conn->hold_sends = 1;
}

int tls_push(tls_conn *conn)
{
    static const int on = 1;
    if (!conn->held)
        return 0;
    conn->held = 0;
    /* Setting TCP_NODELAY sends what MSG_MORE held back (tcp(7)); Nagle's delay has nothing
     * to gain on a connection that writes one greeting. */
    if (setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != ENOPROTOOPT)
        return -1;
    conn->hold_sends = 0; /* not TCP (a UNIX socket): MSG_MORE held nothing back */
    return 0;
}

tls_io_result tls_await_close_notify(tls_conn *conn)
{
    char sink[4096];
    conn->held = 0; /* the caller's shutdown(SHUT_WR) sent what was held, with the FIN */
    for (;;) {
        size_t got = 0;
        tls_io_result r = tls_read(conn, sink, sizeof(sink), &got);
        if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE)
            return r;
        if (r != TLS_IO_DONE)
            return TLS_IO_DONE; /* close_notify, EOF or reset: nothing left to wait for */
        conn->discarded += got;
        if (conn->discarded > TLS_DISCARD_LIMIT) {
            snprintf(conn->error, sizeof(conn->error),
                     "TLS close: the peer sent more than %d bytes instead of close_notify",
                     TLS_DISCARD_LIMIT);
            conn->failed = 1;
            return TLS_IO_FAILED;
        }
    }
}

const char *tls_last_error(const tls_conn *conn)
{
    return conn->error;
}

int tls_handshake_rest_is_light(const tls_conn *conn)
{
    /* TLS 1.3 waits for the client's Finished in TLS_ST_EARLY_DATA (we accept no early
     * data); a resumed TLS 1.2 session right after TLS_ST_SW_FINISHED. */
    OSSL_HANDSHAKE_STATE state = SSL_get_state(conn->ssl);
    return SSL_is_server(conn->ssl) &&
           (state == TLS_ST_EARLY_DATA || state == TLS_ST_SW_FINISHED) &&
           !(SSL_get_verify_mode(conn->ssl) & SSL_VERIFY_PEER);
}

int tls_conn_resumed(const tls_conn *conn)
{
    return SSL_session_reused(conn->ssl) == 1;
}

const char *tls_conn_version(const tls_conn *conn)
{
    const char *version = SSL_get_version(conn->ssl);
    return version ? version : "";
}

const char *tls_conn_cipher(const tls_conn *conn)
{
    const char *cipher = SSL_get_cipher_name(conn->ssl);
    return cipher ? cipher : "";
}

/* ---- blocking with a deadline ---- */

/* Polls conn's fd for what the last step wanted until ready (0) or the deadline (-1). */
static int wait_ready(tls_conn *conn, tls_io_result want, uint64_t deadline_ns, const char *step)
{
    struct pollfd pfd = {.fd = conn->fd, .events = want == TLS_IO_WANT_READ ? POLLIN : POLLOUT};
    for (;;) {
        int timeout_ms = -1, n;
        if (deadline_ns) {
            uint64_t now = clock_now_ns(), left_ms;
            if (now >= deadline_ns) {
                snprintf(conn->error, sizeof(conn->error), "%s: timed out", step);
                return -1;
            }
            left_ms = (deadline_ns - now + 999999) / 1000000;
            timeout_ms = left_ms > INT_MAX ? INT_MAX : (int)left_ms;
        }
        if (tls_push(conn) < 0) {
            snprintf(conn->error, sizeof(conn->error), "%s: setsockopt TCP_NODELAY: %s", step,
                     strerror(errno));
            return -1;
        }
        n = poll(&pfd, 1, timeout_ms);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            snprintf(conn->error, sizeof(conn->error), "%s: poll: %s", step, strerror(errno));
            return -1;
        }
    }
}

/* Copies conn's reason into err and returns -1. */
static int fail(const tls_conn *conn, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", conn->error);
    return -1;
}

int tls_handshake_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen)
{
    for (;;) {
        tls_io_result r = tls_handshake(conn);
        if (r == TLS_IO_DONE)
            return 0;
        if (r == TLS_IO_FAILED || wait_ready(conn, r, deadline_ns, STEP_HANDSHAKE) < 0)
            return fail(conn, err, errlen);
    }
}

int tls_write_all_until(tls_conn *conn, const void *buf, size_t len, uint64_t deadline_ns,
                        size_t *written, char *err, size_t errlen)
{
    size_t done = 0;
    int rc = 0;
    while (done < len && rc == 0) {
        size_t n;
        tls_io_result r = tls_write(conn, (const char *)buf + done, len - done, &n);
        done += n;
        if (r == TLS_IO_CLOSED)
            snprintf(conn->error, sizeof(conn->error), "%s: the peer closed the session", STEP_WRITE);
        if (r == TLS_IO_FAILED || r == TLS_IO_CLOSED ||
            (r != TLS_IO_DONE && wait_ready(conn, r, deadline_ns, STEP_WRITE) < 0))
            rc = fail(conn, err, errlen);
    }
    if (written)
        *written = done;
    return rc;
}

int tls_shutdown_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen)
{
    for (;;) {
        tls_io_result r = tls_shutdown(conn);
        if (r == TLS_IO_DONE)
            return 0;
        if (r == TLS_IO_FAILED || wait_ready(conn, r, deadline_ns, STEP_SHUTDOWN) < 0)
            return fail(conn, err, errlen);
    }
}

int tls_await_close_notify_until(tls_conn *conn, uint64_t deadline_ns, char *err, size_t errlen)
{
    for (;;) {
        tls_io_result r = tls_await_close_notify(conn);
        if (r == TLS_IO_DONE)
            return 0;
        if (r == TLS_IO_FAILED || wait_ready(conn, r, deadline_ns, "TLS close") < 0)
            return fail(conn, err, errlen);
    }
}

int tls_read_until(tls_conn *conn, void *buf, size_t len, size_t *got, uint64_t deadline_ns,
                   char *err, size_t errlen)
{
    for (;;) {
        /* Checked before reading too: a peer that always has bytes ready never makes us wait,
         * and would otherwise keep a caller's read loop going past its deadline. */
        if (deadline_ns && clock_now_ns() >= deadline_ns) {
            *got = 0;
            snprintf(conn->error, sizeof(conn->error), "%s: timed out", STEP_READ);
            return fail(conn, err, errlen);
        }
        tls_io_result r = tls_read(conn, buf, len, got);
        if (r == TLS_IO_DONE)
            return 1;
        if (r == TLS_IO_CLOSED)
            return 0;
        if (r == TLS_IO_FAILED || wait_ready(conn, r, deadline_ns, STEP_READ) < 0)
            return fail(conn, err, errlen);
    }
}

int tls_read_until_eof(tls_conn *conn, void *buf, size_t len, size_t *got, uint64_t deadline_ns,
                       char *err, size_t errlen)
{
    size_t total = 0;
    int rc = 1;
    while (rc == 1 && total < len) {
        size_t n = 0;
        rc = tls_read_until(conn, (char *)buf + total, len - total, &n, deadline_ns, err, errlen);
        total += n;
    }
    *got = total;
    return rc;
}
