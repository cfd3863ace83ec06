/* options.c -- greeter-client's command line: argv into client_options, and the help text. */
#include "options.h"

#include "cli.h"
#include "net.h"
#include "parse.h"

#include <string.h>

void client_options_usage(FILE *out, const char *program)
{
    fprintf(out,
            "Usage: %s [OPTIONS] [HOST [PORT]]\n"
            "       %s resolve HOST SERVICE\n"
            "Connects to a greeting server, prints its greeting and a newline, and exits.\n"
            "HOST may be a name, a dotted quad, an IPv6 address ([::1] or ::1), '' for this\n"
            "machine, or an integer taken as an IPv4 address; PORT a number or service name.\n\n"
            "  -H, --host HOST      server host (default localhost)\n"
            "  -p, --port PORT      server port (default 12345)\n"
            "  -t, --timeout TIME   deadline for the whole exchange, from connecting to the\n"
            "                       greeting's end; with --udp, the wait for each reply, so\n"
            "                       (retries + 1) x TIME in all (default 5s, or 1s with --udp;\n"
            "                       units us, ms, s, m)\n"
            "      --max-bytes N    the longest greeting taken: a longer one fails with exit 1\n"
            "                       (default 1048576, the server's own limit)\n"
            "  -u, --udp            ask by datagram (sendto/recvfrom) instead of connecting\n"
            "  -r, --retries N      with --udp: datagrams to resend when no reply comes\n"
            "                       (default 3)\n"
            "      --request-size N with --udp: the request's size, 'greeting?' and zero bytes\n"
            "                       (9-65507, default 512). A greeter server answers only a\n"
            "                       request at least a third of its greeting's size, and drops\n"
            "                       one larger than its --udp-max (default 1024)\n"
            "  -b, --broadcast      with --udp: allow a broadcast address (SO_BROADCAST); implied\n"
            "                       by the host '<broadcast>'\n"
            "  -U, --unix PATH      connect to a UNIX socket instead of HOST:PORT\n"
            "  -T, --tls            speak TLS; the server's certificate is verified\n"
            "      --tls-ca FILE    trust these CAs (PEM) instead of the system's store\n"
            "  -k, --insecure       do not verify the server's certificate or name\n"
            "      --servername N   the name to send (SNI) and verify (default: HOST)\n"
            "      --tls-cert FILE  client certificate for mutual TLS (PEM)\n"
            "      --tls-key FILE   its private key (PEM)\n"
            "      --tls-min V      lowest TLS version, 1.2 or 1.3 (default 1.2)\n"
            "  -h, --help           this help\n"
            "      --version        print the version and exit\n\n"
            "resolve prints the local host name and getaddrinfo's answers for HOST and SERVICE.\n"
            "The greeting is copied to stdout as it arrives: after a failure, what was printed\n"
            "is incomplete.\n"
            "Exit status: 0 greeted, 1 could not connect or read (or a bound was passed),\n"
            "2 bad usage (a bad port or service name included).\n",
            program, program);
}

enum { OPT_TLS_CA = CLI_LONG_ONLY, OPT_SERVERNAME, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_MIN,
       OPT_MAX_BYTES, OPT_VERSION, OPT_REQUEST_SIZE };

static const cli_option options[] = {
    {"host", 'H', 1},
    {"port", 'p', 1},
    {"timeout", 't', 1},
    {"udp", 'u', 0},
    {"retries", 'r', 1},
    {"broadcast", 'b', 0},
    {"unix", 'U', 1},
    {"tls", 'T', 0},
    {"tls-ca", OPT_TLS_CA, 1},
    {"insecure", 'k', 0},
    {"servername", OPT_SERVERNAME, 1},
    {"tls-cert", OPT_TLS_CERT, 1},
    {"tls-key", OPT_TLS_KEY, 1},
    {"tls-min", OPT_TLS_MIN, 1},
    {"max-bytes", OPT_MAX_BYTES, 1},
    {"help", 'h', 0},
    {"version", OPT_VERSION, 0},
    {"request-size", OPT_REQUEST_SIZE, 1},
    {NULL, 0, 0},
};

/* Sets err and returns -1: the shape of every usage error below. */
static int usage_error(char *err, size_t errlen, const char *message)
{
    snprintf(err, errlen, "%s", message);
    return -1;
}

/* What the options set besides client_options: whether -t and -r were given. */
typedef struct parse_state {
    client_options *o;
    int timeout_given, retries_given;
} parse_state;

/* Applies one option (cli_apply_fn): CLI_GO_ON, CLI_STOP after --help or --version, or -1. */
static int apply_option(void *ctx, int key, const char *arg, char *err, size_t errlen)
{
    parse_state *ps = ctx;
    client_options *o = ps->o;
    switch (key) {
    case 'H': o->host = arg; return CLI_GO_ON;
    case 'p': o->port = arg; return CLI_GO_ON;
    case 't':
        if (parse_duration_us("--timeout", arg, "s", &o->timeout_us, err, errlen) < 0)
            return -1;
        if (o->timeout_us < 1000 || o->timeout_us > 3600LL * 1000000)
            return usage_error(err, errlen, "--timeout: must be between 1ms and 1h");
        ps->timeout_given = 1;
        return CLI_GO_ON;
    case 'u': o->udp = 1; return CLI_GO_ON;
    case 'r':
        ps->retries_given = 1;
        return parse_long("--retries", arg, 0, 1000, &o->retries, err, errlen);
    case 'b': o->broadcast = 1; return CLI_GO_ON;
    case 'U': o->unix_path = arg; return CLI_GO_ON;
    case 'T': o->tls = 1; return CLI_GO_ON;
    case 'k': o->tls_opts.insecure = 1; return CLI_GO_ON;
    case OPT_TLS_CA: o->tls_opts.ca_file = arg; return CLI_GO_ON;
    case OPT_SERVERNAME: o->servername = arg; return CLI_GO_ON;
    case OPT_TLS_CERT: o->tls_opts.cert_file = arg; return CLI_GO_ON;
    case OPT_TLS_KEY: o->tls_opts.key_file = arg; return CLI_GO_ON;
    case OPT_TLS_MIN:
        if ((o->tls_opts.min_version = tls_parse_version(arg)) < 0)
            return usage_error(err, errlen, "--tls-min: give 1.2 or 1.3");
        return CLI_GO_ON;
    case OPT_MAX_BYTES: return parse_long("--max-bytes", arg, 1, 1L << 30, &o->max_bytes, err, errlen);
    case 'h': o->help = 1; return CLI_STOP;
    case OPT_VERSION: o->version = 1; return CLI_STOP;
    case OPT_REQUEST_SIZE:
        ps->retries_given = 1; /* a --udp option, as --retries */
        return parse_long("--request-size", arg, 9, 65507, &o->request_size, err, errlen);
    default: return usage_error(err, errlen, "unexpected option");
    }
}

/* Options that do not go together; 0, or -1 with err. */
static int check_combinations(const client_options *o, int retries_given, char *err, size_t errlen)
{
    const tls_client_opts *t = &o->tls_opts;
    int tls_detail = t->ca_file || t->insecure || t->cert_file || t->key_file || t->min_version ||
                     o->servername;
    if (!o->udp && (o->broadcast || retries_given))
        return usage_error(err, errlen, "--broadcast, --retries and --request-size go with --udp");
    if (tls_detail && !o->tls)
        return usage_error(err, errlen,
                           "--tls-ca, --insecure, --servername, --tls-cert, --tls-key and --tls-min go with --tls");
    if (o->tls && !tls_available())
        return usage_error(err, errlen, "--tls: " TLS_NOT_BUILT_IN);
    if (o->tls && o->udp)
        return usage_error(err, errlen, "--tls does not apply with --udp (DTLS is not supported)");
    if (!t->cert_file != !t->key_file)
        return usage_error(err, errlen, "mutual TLS needs both --tls-cert and --tls-key");
    return 0;
}

int client_options_parse(int argc, char **argv, client_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->host = "localhost";
    o->port = "12345";
    o->timeout_us = 5000000;
    o->retries = 3;
    o->request_size = NET_UDP_REQUEST_SIZE;
    o->max_bytes = CLIENT_DEFAULT_MAX_BYTES;
    parse_state ps = {.o = o};
    int operand = cli_parse(argc, argv, options, apply_option, &ps, err, errlen);
    if (operand == CLI_STOPPED)
        return 0;
    if (operand < 0)
        return -1;
    if (operand < argc)
        o->host = argv[operand++];
    if (operand < argc)
        o->port = argv[operand++];
    if (operand < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[operand]);
        return -1;
    }
    if (check_combinations(o, ps.retries_given, err, errlen) < 0)
        return -1;
    if (o->udp && !ps.timeout_given)
        o->timeout_us = 1000000; /* per datagram: retries do the rest */
    if (o->unix_path)
        return 0;
    /* "[::1]:12345" or "host:port" may stand for HOST when PORT is not given separately. */
    if (addr_split(o->host, o->host_only, sizeof(o->host_only), o->port_only, sizeof(o->port_only),
                   err, errlen) < 0)
        return -1;
    if (o->port_only[0] == '\0')
        snprintf(o->port_only, sizeof(o->port_only), "%.*s", (int)sizeof(o->port_only) - 1, o->port);
    /* A stream cannot go to everyone: without this the connect fails "Network is unreachable". */
    if (!o->udp && strcmp(o->host_only, "<broadcast>") == 0)
        return usage_error(err, errlen, "<broadcast> is for datagrams: add --udp");
    unsigned portnum;
    return addr_parse_port(o->port_only, o->udp ? SOCK_DGRAM : SOCK_STREAM, &portnum, err, errlen);
}
