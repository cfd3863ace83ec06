/* options.c -- greeter-server's command line: argv into a server_config, and the help text. */
#include "options.h"

#include "addr.h"
#include "cidr.h"
#include "cli.h"
#include "err.h"
#include "metrics.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DEFAULT_GREETING "Thank you for connecting"
#define DEFAULT_BUSY "Server busy, try again later\n"

void server_options_usage(FILE *out, const char *program, int cores)
{
    char here[32] = ""; /* this machine's figure, after the rule */
    if (cores > 0)
        snprintf(here, sizeof(here), ": %d", cores * 4);
    fprintf(out,
            "Usage: %s [OPTIONS]\n"
            "Greets every client that connects, then closes the connection.\n\n"
            "  -m, --model NAME        concurrency model (default pool):\n",
            program);
    for (const server_model *m = server_models(); m->name; m++)
        fprintf(out, "                            %-10s %s\n", m->name, m->summary);
    fprintf(out,
            "  -H, --host HOST         address to listen on (default localhost); '' means any\n"
            "                          IPv4 address, '::' any IPv6 and IPv4 address\n"
            "  -p, --port PORT         port number or service name (default 12345; 0 picks a\n"
            "                          free port, printed on the 'listening on' line)\n"
            "  -w, --workers N         pool: worker threads (default 4 per core%s);\n"
            "                          prefork: processes (default 4 per core);\n"
            "                          event: epoll loops (default one per core; cores are\n"
            "                          the CPUs this process may run on: taskset, cpusets)\n"
            "  -q, --queue N           pool: accepted connections that may wait for a worker\n"
            "                          (default 1024); under --overload block the accept\n"
            "                          thread takes no more from the backlog while\n"
            "                          max(128, 4 x workers) are queued (fewer with a small\n"
            "                          -q; all it can with a --backlog below 4 x that)\n"
            "      --always-hand-off   pool: hand every connection to a worker; by default the\n"
            "                          accept thread greets a plain client itself while every\n"
            "                          worker sleeps and nothing is queued (a greeting costs\n"
            "                          less than waking a worker; TLS, --proxy-protocol,\n"
            "                          --work-us and --access-log still go to a worker)\n"
            "      --max-children N    fork: children alive at once (default 1024)\n"
            "      --max-threads N     thread: connection threads alive at once (default 1024)\n"
            "      --backlog N         kernel listen backlog (default 4096)\n"
            "      --overload POLICY   pool, fork, thread: when the queue or the cap is full:\n"
            "                          block (leave new clients in the kernel backlog) or\n"
            "                          reject (send --busy-message and close); default block\n"
            "      --busy-message TEXT what rejected clients get (default 'Server busy, try\n"
            "                          again later' and a newline); '' closes silently\n"
            "      --ipv6-only         on an IPv6 address such as '::', refuse IPv4 clients\n"
            "                          (default: dual-stack, IPv4 clients welcome)\n"
            "      --unix PATH         listen on a UNIX socket instead of HOST:PORT; a stale\n"
            "                          socket file is replaced, any other file is an error\n"
            "      --unix-mode MODE    permissions of the UNIX socket, octal (default: umask's)\n"
            "      --udp               answer datagrams instead of connections (pool, iterative\n"
            "                          and event models); each datagram gets the greeting\n"
            "      --udp-max N         larger datagrams are dropped unanswered (default 1024)\n"
            "      --udp-amplification N  answer a datagram only when the greeting is at most N\n"
            "                          times its size, so that a forged source address cannot\n"
            "                          turn the server into an amplifier (default 3: the\n"
            "                          9-byte 'greeting?' gets a greeting of up to 27 bytes);\n"
            "                          0 answers any datagram (trusted networks only)\n"
            "      --tls-cert FILE     serve TLS with this PEM certificate (chain allowed)\n"
            "      --tls-key FILE      the certificate's PEM private key\n"
            "      --tls-client-ca F   require client certificates signed by these CAs (mutual TLS)\n"
            "      --tls-min VERSION   lowest TLS version, 1.2 or 1.3 (default 1.2)\n"
            "      --tls-no-resume     no session resumption (no cache, no tickets)\n"
            "      --tls-groups LIST   key exchange groups, colon-separated, in order of\n"
            "                          preference (default " TLS_DEFAULT_GROUPS "); finite-field\n"
            "                          groups (ffdhe*) are refused: each handshake would cost\n"
            "                          the server 10-100 ms of CPU\n"
            "      --max-conns N       open connections at once; more get --busy-message\n"
            "                          (default: no cap)\n"
            "      --max-per-ip N      open connections per client address (default: no cap)\n"
            "      --rate-per-ip N[/s|/m]  new connections (UDP: datagrams) per client address\n"
            "                          per second (or minute), a bucket of one second's worth\n"
            "                          (at least 1); over it, a client gets --busy-message and\n"
            "                          is closed at once (a datagram: no answer) (default: no\n"
            "                          limit; not for --unix without --proxy-protocol)\n"
            "      --allow CIDR        only clients in these blocks (repeatable; IPv4 or IPv6,\n"
            "                          e.g. 127.0.0.0/8, ::1); default: everyone\n"
            "      --deny CIDR         never clients in these blocks (repeatable); wins over\n"
            "                          --allow. Denied clients are closed without a word\n"
            "      --proxy-protocol    every connection begins with a PROXY protocol header\n"
            "                          (v1 or v2, as HAProxy, nginx and cloud balancers send):\n"
            "                          its client address is the one for the caps, --allow,\n"
            "                          --deny, the access log and metrics. Without a valid\n"
            "                          header within --io-timeout, closed unanswered\n"
            "                          (counted proxy_failed, part of failed)\n"
            "      --proxy-from CIDR   the balancers trusted to send it (repeatable; default\n"
            "                          127.0.0.0/8 and ::1); others are closed unanswered\n"
            "      --user NAME         after binding, drop root and run as this user\n"
            "      --group NAME        with --user: run with this group (default: the user's)\n"
            "      --greeting TEXT     the greeting (default '" DEFAULT_GREETING "')\n"
            "      --greeting-file F   send the contents of file F instead (at most 1 MiB)\n"
            "      --io-timeout TIME   longest wait on a slow client in each phase: TLS\n"
            "                          handshake, greeting, closing (default 5s; units us,\n"
            "                          ms, s, m)\n"
            "      --work-us N         simulated work per connection before the greeting, in\n"
            "                          microseconds (default 0)\n"
            "      --work-kind KIND    sleep (blocking I/O, default) or spin (CPU work)\n"
            "      --access-log        print \"Got connection from ('127.0.0.1', 48437)\" per client\n"
            "      --access-log-format F  tutorial (that line, when the client arrives) or full\n"
            "                          (a line when it is done: time, peer, outcome, duration);\n"
            "                          implies --access-log\n"
            "      --access-log-file F append the access log to file F instead of stdout\n"
            "                          (implies --access-log; SIGHUP and SIGUSR1 reopen it)\n"
            "      --log-file F        append messages to file F instead of stderr (reopened\n"
            "                          by SIGHUP and SIGUSR1)\n"
            "      --upgrade-binary F  the program SIGUSR2 starts for a hitless upgrade\n"
            "                          (default: the running executable's path)\n"
            "      --metrics [HOST:]PORT\n"
            "                          serve Prometheus metrics at http://HOST:PORT/metrics\n"
            "                          (HOST defaults to 127.0.0.1, loopback only; there is no\n"
            "                          default port; 0 picks one, printed on a 'metrics on' line)\n"
            "                          and /ready there (503 while draining: readiness probes)\n"
            "      --quiet             only warnings and errors on stderr\n"
            "  -h, --help              this help\n"
            "      --version           print the version and exit\n\n"
            "Prints 'listening on HOST:PORT' when ready. SIGINT, SIGTERM or SIGQUIT stops\n"
            "accepting, greets every connection already accepted, prints a summary line and\n"
            "exits 0; a second signal exits at once. SIGHUP reloads --greeting-file and the TLS\n"
            "files and reopens the logs; SIGUSR1 reopens the logs; SIGUSR2 starts the program\n"
            "again on the same listening sockets and exits once it is ready (hitless upgrade).\n"
            "Under systemd, the listeners may be inherited (LISTEN_FDS; a socket named 'tls'\n"
            "serves TLS) and readiness is reported (NOTIFY_SOCKET). Exit status: 0 done,\n"
            "1 could not start, 2 bad usage (a bad port or service name included).\n",
            here);
}

enum {
    OPT_BACKLOG = CLI_LONG_ONLY,
    OPT_OVERLOAD,
    OPT_BUSY,
    OPT_GREETING,
    OPT_GREETING_FILE,
    OPT_IO_TIMEOUT,
    OPT_WORK_US,
    OPT_WORK_KIND,
    OPT_ACCESS_LOG,
    OPT_QUIET,
    OPT_MAX_CHILDREN,
    OPT_MAX_THREADS,
    OPT_ALWAYS_HAND_OFF,
    OPT_IPV6_ONLY,
    OPT_UNIX,
    OPT_UNIX_MODE,
    OPT_UDP,
    OPT_UDP_MAX,
    OPT_UDP_AMPLIFICATION,
    OPT_RATE_PER_IP,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_CLIENT_CA,
    OPT_TLS_MIN,
    OPT_TLS_NO_RESUME,
    OPT_TLS_GROUPS,
    OPT_MAX_CONNS,
    OPT_MAX_PER_IP,
    OPT_ALLOW,
    OPT_DENY,
    OPT_USER,
    OPT_GROUP,
    OPT_ACCESS_LOG_FORMAT,
    OPT_ACCESS_LOG_FILE,
    OPT_LOG_FILE,
    OPT_UPGRADE_BINARY,
    OPT_METRICS,
    OPT_PROXY_PROTOCOL,
    OPT_PROXY_FROM,
    OPT_VERSION,
};

static const cli_option options[] = {
    {"model", 'm', 1},
    {"host", 'H', 1},
    {"port", 'p', 1},
    {"workers", 'w', 1},
    {"queue", 'q', 1},
    {"backlog", OPT_BACKLOG, 1},
    {"overload", OPT_OVERLOAD, 1},
    {"busy-message", OPT_BUSY, 1},
    {"greeting", OPT_GREETING, 1},
    {"greeting-file", OPT_GREETING_FILE, 1},
    {"io-timeout", OPT_IO_TIMEOUT, 1},
    {"work-us", OPT_WORK_US, 1},
    {"work-kind", OPT_WORK_KIND, 1},
    {"access-log", OPT_ACCESS_LOG, 0},
    {"quiet", OPT_QUIET, 0},
    {"max-children", OPT_MAX_CHILDREN, 1},
    {"max-threads", OPT_MAX_THREADS, 1},
    {"always-hand-off", OPT_ALWAYS_HAND_OFF, 0},
    {"ipv6-only", OPT_IPV6_ONLY, 0},
    {"unix", OPT_UNIX, 1},
    {"unix-mode", OPT_UNIX_MODE, 1},
    {"udp", OPT_UDP, 0},
    {"udp-max", OPT_UDP_MAX, 1},
    {"udp-amplification", OPT_UDP_AMPLIFICATION, 1},
    {"rate-per-ip", OPT_RATE_PER_IP, 1},
    {"tls-cert", OPT_TLS_CERT, 1},
    {"tls-key", OPT_TLS_KEY, 1},
    {"tls-client-ca", OPT_TLS_CLIENT_CA, 1},
    {"tls-min", OPT_TLS_MIN, 1},
    {"tls-no-resume", OPT_TLS_NO_RESUME, 0},
    {"tls-groups", OPT_TLS_GROUPS, 1},
    {"max-conns", OPT_MAX_CONNS, 1},
    {"max-per-ip", OPT_MAX_PER_IP, 1},
    {"allow", OPT_ALLOW, 1},
    {"deny", OPT_DENY, 1},
    {"user", OPT_USER, 1},
    {"group", OPT_GROUP, 1},
    {"access-log-format", OPT_ACCESS_LOG_FORMAT, 1},
    {"access-log-file", OPT_ACCESS_LOG_FILE, 1},
    {"log-file", OPT_LOG_FILE, 1},
    {"upgrade-binary", OPT_UPGRADE_BINARY, 1},
    {"metrics", OPT_METRICS, 1},
    {"proxy-protocol", OPT_PROXY_PROTOCOL, 0},
    {"proxy-from", OPT_PROXY_FROM, 1},
    {"help", 'h', 0},
    {"version", OPT_VERSION, 0},
    {NULL, 0, 0},
};

/* Appends the block text (for option) to *list of *count blocks (the arrays are the process's
 * until server_options_free). 0, or -1 with err. */
static int add_block(const cidr_block **list, size_t *count, const char *option, const char *text,
                     char *err, size_t errlen)
{
    cidr_block block;
    if (cidr_parse(text, &block, err, errlen) < 0) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (%s)", option);
        return -1;
    }
    cidr_block *grown = realloc((cidr_block *)*list, (*count + 1) * sizeof(block));
    if (grown == NULL) {
        snprintf(err, errlen, "%s: out of memory", option);
        return -1;
    }
    grown[(*count)++] = block;
    *list = grown;
    return 0;
}

/* An --allow or --deny block into cfg's access rules. */
static int add_rule(server_config *cfg, int allow, const char *text, char *err, size_t errlen)
{
    if (allow)
        return add_block(&cfg->access.allow, &cfg->access.allow_count, "--allow", text, err, errlen);
    return add_block(&cfg->access.deny, &cfg->access.deny_count, "--deny", text, err, errlen);
}

/* --proxy-protocol without --proxy-from trusts loopback only. */
static int default_proxy_from(server_config *cfg, char *err, size_t errlen)
{
    proxy_config *px = &cfg->handler.proxy;
    if (!px->enabled || px->from_count > 0)
        return 0;
    return add_block(&px->from, &px->from_count, "--proxy-from", "127.0.0.0/8", err, errlen) < 0 ||
                   add_block(&px->from, &px->from_count, "--proxy-from", "::1", err, errlen) < 0
               ? -1
               : 0;
}

/* --rate-per-ip N, N/s or N/m into connections per second; 0, or -1 with err. */
static int parse_rate(const char *arg, double *per_second, char *err, size_t errlen)
{
    char number[32];
    const char *slash = strchr(arg, '/');
    size_t len = slash ? (size_t)(slash - arg) : strlen(arg);
    double period = 1;
    if (slash && strcmp(slash, "/s") != 0 && strcmp(slash, "/m") != 0) {
        snprintf(err, errlen, "--rate-per-ip: '%s': the unit is /s or /m (e.g. 50/s)", arg);
        return -1;
    }
    if (slash && slash[1] == 'm')
        period = 60;
    if (len >= sizeof(number)) {
        snprintf(err, errlen, "--rate-per-ip: '%s' is not a number of connections", arg);
        return -1;
    }
    memcpy(number, arg, len);
    number[len] = '\0';
    long n;
    if (parse_long("--rate-per-ip", number, 1, 1000000, &n, err, errlen) < 0)
        return -1;
    *per_second = (double)n / period;
    return 0;
}

/* An apply_* group's answer for an option of another group. */
#define NOT_MINE 2

/* A whole number option into *out; CLI_GO_ON, or -1 with err. */
static int int_option(const char *name, const char *arg, long min, long max, int *out, char *err,
                      size_t errlen)
{
    long n;
    if (parse_long(name, arg, min, max, &n, err, errlen) < 0)
        return -1;
    *out = (int)n;
    return CLI_GO_ON;
}

/* An option that names one of two words: 0 for first, 1 for second, -1 with err. */
static int choice(const char *name, const char *arg, const char *first, const char *second,
                  char *err, size_t errlen)
{
    if (strcmp(arg, first) == 0)
        return 0;
    if (strcmp(arg, second) == 0)
        return 1;
    return err_fail(err, errlen, "%s: '%s' is not %s or %s", name, arg, first, second);
}

/* The model and its capacity. */
static int apply_model_option(server_config *cfg, int key, const char *arg, char *err,
                              size_t errlen)
{
    int reject;
    switch (key) {
    case 'm':
        if (server_find_model(arg) == NULL)
            return err_fail(err, errlen, "--model: unknown model '%s' (see --help for the list)", arg);
        cfg->model = arg;
        return CLI_GO_ON;
    case 'w':
        cfg->options_set |= MODEL_OPT_WORKERS;
        return int_option("--workers", arg, 1, 100000, &cfg->workers, err, errlen);
    case 'q':
        cfg->options_set |= MODEL_OPT_QUEUE;
        return int_option("--queue", arg, 1, 10000000, &cfg->queue_capacity, err, errlen);
    case OPT_BACKLOG: return int_option("--backlog", arg, 1, 1000000, &cfg->backlog, err, errlen);
    case OPT_OVERLOAD:
        if ((reject = choice("--overload", arg, "block", "reject", err, errlen)) < 0)
            return -1;
        cfg->overload = reject ? OVERLOAD_REJECT : OVERLOAD_BLOCK;
        cfg->options_set |= MODEL_OPT_OVERLOAD;
        return CLI_GO_ON;
    case OPT_MAX_CHILDREN:
        cfg->options_set |= MODEL_OPT_MAX_CHILDREN;
        return int_option("--max-children", arg, 1, 100000, &cfg->max_children, err, errlen);
    case OPT_MAX_THREADS:
        cfg->options_set |= MODEL_OPT_MAX_THREADS;
        return int_option("--max-threads", arg, 1, 100000, &cfg->max_threads, err, errlen);
    case OPT_ALWAYS_HAND_OFF:
        cfg->options_set |= MODEL_OPT_HAND_OFF;
        cfg->always_hand_off = 1;
        return CLI_GO_ON;
    }
    return NOT_MINE;
}

/* Where the server listens, and what comes in on it before the greeting. */
static int apply_listen_option(server_config *cfg, int key, const char *arg, char *err,
                               size_t errlen)
{
    char *end;
    unsigned long mode;
    switch (key) {
    case 'H': cfg->host = arg; cfg->address_given = 1; return CLI_GO_ON;
    case 'p': cfg->port = arg; cfg->address_given = 1; return CLI_GO_ON;
    case OPT_IPV6_ONLY: cfg->ipv6_only = 1; return CLI_GO_ON;
    case OPT_UNIX: cfg->unix_path = arg; cfg->address_given = 1; return CLI_GO_ON;
    case OPT_UNIX_MODE:
        mode = strtoul(arg, &end, 8);
        if (*arg == '\0' || *end != '\0' || mode > 07777)
            return err_fail(err, errlen, "--unix-mode: '%s' is not an octal mode such as 0660", arg);
        cfg->unix_mode = (int)mode;
        return CLI_GO_ON;
    case OPT_UDP:
        cfg->udp = 1;
        cfg->options_set |= MODEL_OPT_UDP;
        return CLI_GO_ON;
    case OPT_UDP_MAX: return int_option("--udp-max", arg, 0, 65535, &cfg->udp_max, err, errlen);
    case OPT_UDP_AMPLIFICATION:
        return int_option("--udp-amplification", arg, 0, 65535, &cfg->udp_amplification, err, errlen);
    case OPT_PROXY_PROTOCOL: cfg->handler.proxy.enabled = 1; return CLI_GO_ON;
    case OPT_PROXY_FROM:
        return add_block(&cfg->handler.proxy.from, &cfg->handler.proxy.from_count, "--proxy-from",
                         arg, err, errlen);
    }
    return NOT_MINE;
}

/* What a client is sent, and the bounds on serving it. */
static int apply_greeting_option(server_options *out, int key, const char *arg, char *err,
                                 size_t errlen)
{
    handler_config *h = &out->cfg.handler;
    long long us;
    int spin;
    switch (key) {
    case OPT_BUSY:
        h->busy_message = arg;
        h->busy_message_len = strlen(arg);
        return CLI_GO_ON;
    case OPT_GREETING:
        if (*arg == '\0')
            return err_fail(err, errlen, "--greeting: the greeting cannot be empty");
        h->greeting = arg;
        h->greeting_len = strlen(arg);
        return CLI_GO_ON;
    case OPT_GREETING_FILE: out->greeting_file = out->cfg.greeting_file = arg; return CLI_GO_ON;
    case OPT_IO_TIMEOUT:
        if (parse_duration_us("--io-timeout", arg, "s", &us, err, errlen) < 0)
            return -1;
        if (us < 1000 || us > 3600LL * 1000000)
            return err_fail(err, errlen, "--io-timeout: %s is out of range (1ms-1h)", arg);
        h->io_timeout_ms = (int)(us / 1000);
        return CLI_GO_ON;
    case OPT_WORK_US: {
        int work_us;
        if (int_option("--work-us", arg, 0, 60000000, &work_us, err, errlen) < 0)
            return -1;
        h->work_us = (unsigned)work_us;
        return CLI_GO_ON;
    }
    case OPT_WORK_KIND:
        if ((spin = choice("--work-kind", arg, "sleep", "spin", err, errlen)) < 0)
            return -1;
        h->work = spin ? WORK_SPIN : WORK_SLEEP;
        return CLI_GO_ON;
    }
    return NOT_MINE;
}

/* TLS. */
static int apply_tls_option(server_config *cfg, int key, const char *arg, char *err,
                            size_t errlen)
{
    switch (key) {
    case OPT_TLS_CERT: cfg->tls.cert_file = arg; return CLI_GO_ON;
    case OPT_TLS_KEY: cfg->tls.key_file = arg; return CLI_GO_ON;
    case OPT_TLS_CLIENT_CA: cfg->tls.client_ca_file = arg; return CLI_GO_ON;
    case OPT_TLS_MIN:
        if ((cfg->tls.min_version = tls_parse_version(arg)) < 0)
            return err_fail(err, errlen, "--tls-min: '%s' is not 1.2 or 1.3", arg);
        return CLI_GO_ON;
    case OPT_TLS_NO_RESUME: cfg->tls.no_resumption = 1; return CLI_GO_ON;
    case OPT_TLS_GROUPS: cfg->tls.groups = arg; return CLI_GO_ON;
    }
    return NOT_MINE;
}

/* Who may connect, how many and how often, and as whom the server runs. */
static int apply_access_option(server_config *cfg, int key, const char *arg, char *err,
                               size_t errlen)
{
    switch (key) {
    case OPT_MAX_CONNS:
        return int_option("--max-conns", arg, 1, 10000000, &cfg->access.max_conns, err, errlen);
    case OPT_MAX_PER_IP:
        return int_option("--max-per-ip", arg, 1, 10000000, &cfg->access.max_per_ip, err, errlen);
    case OPT_RATE_PER_IP: return parse_rate(arg, &cfg->access.rate_per_ip, err, errlen);
    case OPT_ALLOW:
    case OPT_DENY: return add_rule(cfg, key == OPT_ALLOW, arg, err, errlen);
    case OPT_USER: cfg->user = arg; return CLI_GO_ON;
    case OPT_GROUP: cfg->group = arg; return CLI_GO_ON;
    }
    return NOT_MINE;
}

/* Logs, metrics, upgrades, and the options that stop parsing. */
static int apply_process_option(server_options *out, int key, const char *arg, char *err,
                                size_t errlen)
{
    server_config *cfg = &out->cfg;
    char host[ADDR_HOSTLEN], port[ADDR_PORTLEN];
    int full;
    switch (key) {
    case OPT_METRICS:
        if (metrics_parse_spec(arg, host, sizeof(host), port, sizeof(port), err, errlen) < 0)
            return -1;
        cfg->metrics = arg;
        return CLI_GO_ON;
    case OPT_ACCESS_LOG:
        if (!cfg->handler.access_log)
            cfg->handler.access_log = ACCESS_LOG_TUTORIAL;
        return CLI_GO_ON;
    case OPT_ACCESS_LOG_FORMAT:
        if ((full = choice("--access-log-format", arg, "tutorial", "full", err, errlen)) < 0)
            return -1;
        cfg->handler.access_log = full ? ACCESS_LOG_FULL : ACCESS_LOG_TUTORIAL;
        return CLI_GO_ON;
    case OPT_ACCESS_LOG_FILE:
        out->access_log_file = arg;
        if (!cfg->handler.access_log)
            cfg->handler.access_log = ACCESS_LOG_TUTORIAL;
        return CLI_GO_ON;
    case OPT_LOG_FILE: out->log_file = arg; return CLI_GO_ON;
    case OPT_UPGRADE_BINARY: cfg->upgrade_binary = arg; return CLI_GO_ON;
    case OPT_QUIET: cfg->quiet = 1; return CLI_GO_ON;
    case 'h': out->help = 1; return CLI_STOP;
    case OPT_VERSION: out->version = 1; return CLI_STOP;
    }
    return NOT_MINE;
}

/* Applies one option (cli_apply_fn): the group it belongs to sets it. */
static int apply_option(void *ctx, int key, const char *arg, char *err, size_t errlen)
{
    server_options *out = ctx;
    server_config *cfg = &out->cfg;
    int rc = apply_model_option(cfg, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_listen_option(cfg, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_greeting_option(out, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_tls_option(cfg, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_access_option(cfg, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_process_option(out, key, arg, err, errlen);
    return rc == NOT_MINE ? err_fail(err, errlen, "unexpected option") : rc;
}

/* Any TLS option at all. */
static int tls_wanted(const server_config *cfg)
{
    return cfg->tls.cert_file || cfg->tls.key_file || cfg->tls.client_ca_file ||
           cfg->tls.min_version || cfg->tls.no_resumption || cfg->tls.groups;
}

/* Options that make no sense together; 0, or -1 with err. */
static int check_combinations(const server_config *cfg, char *err, size_t errlen)
{
    if (cfg->unix_mode >= 0 && !cfg->unix_path)
        snprintf(err, errlen, "--unix-mode needs --unix PATH");
    else if (cfg->ipv6_only && cfg->unix_path)
        snprintf(err, errlen, "--ipv6-only does not apply to a UNIX socket");
    else if (cfg->udp && (cfg->options_set & (MODEL_OPT_QUEUE | MODEL_OPT_OVERLOAD | MODEL_OPT_HAND_OFF)))
        snprintf(err, errlen, "--queue, --overload and --always-hand-off do not apply with --udp "
                              "(nothing is queued)");
    else if (cfg->group && !cfg->user)
        snprintf(err, errlen, "--group goes with --user");
    else if (cfg->udp && (cfg->access.max_conns || cfg->access.max_per_ip))
        snprintf(err, errlen, "--max-conns and --max-per-ip do not apply with --udp (no connections)");
    else if (cfg->access.rate_per_ip > 0 && cfg->unix_path && !cfg->handler.proxy.enabled)
        snprintf(err, errlen, "--rate-per-ip does not apply to a UNIX socket (its clients have "
                              "no address, unless --proxy-protocol gives them one)");
    else if (tls_wanted(cfg) && !tls_available())
        snprintf(err, errlen, "--tls-*: %s", TLS_NOT_BUILT_IN);
    else if (tls_wanted(cfg) && (!cfg->tls.cert_file || !cfg->tls.key_file))
        snprintf(err, errlen, "TLS needs both --tls-cert and --tls-key");
    else if (tls_wanted(cfg) && cfg->udp)
        snprintf(err, errlen, "TLS does not apply with --udp (DTLS is not supported)");
    else if (cfg->handler.proxy.from_count && !cfg->handler.proxy.enabled)
        snprintf(err, errlen, "--proxy-from goes with --proxy-protocol");
    else if (cfg->handler.proxy.enabled && cfg->udp)
        snprintf(err, errlen, "--proxy-protocol does not apply with --udp (the PROXY header "
                              "comes on connections; datagrams carry none here)");
    else if (cfg->handler.access_log == ACCESS_LOG_FULL && strcmp(cfg->model, "event") == 0)
        snprintf(err, errlen, "--access-log-format full does not apply to the event model (use tutorial)");
    else
        return 0;
    return -1;
}

/* --tls-groups names groups OpenSSL knows, none finite-field: a usage error otherwise. */
static int check_tls_groups(const server_config *cfg, char *err, size_t errlen)
{
    char why[192];
    if (cfg->tls.groups == NULL || tls_check_groups(cfg->tls.groups, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, errlen, "--tls-groups: %s", why);
    return -1;
}

/* A bad port or service name is a usage error (exit 2), as in the client and loadgen. */
static int check_port(const server_config *cfg, char *err, size_t errlen)
{
    unsigned port;
    if (cfg->unix_path)
        return 0;
    return addr_parse_port(cfg->port, cfg->udp ? SOCK_DGRAM : SOCK_STREAM, &port, err, errlen);
}

static void set_defaults(server_config *cfg, int cores)
{
    *cfg = (server_config){
        .model = "pool",
        .host = "localhost",
        .port = "12345",
        .workers = 4 * cores,
        .queue_capacity = 1024,
        .backlog = 4096,
        .overload = OVERLOAD_BLOCK,
        .max_children = 1024,
        .max_threads = 1024,
        .udp_max = 1024,
        .udp_amplification = 3,
        .unix_mode = -1,
        .handler = {.greeting = DEFAULT_GREETING,
                    .greeting_len = strlen(DEFAULT_GREETING),
                    .busy_message = DEFAULT_BUSY,
                    .busy_message_len = strlen(DEFAULT_BUSY),
                    .io_timeout_ms = 5000,
                    .work = WORK_SLEEP},
    };
}

int server_options_parse(int argc, char **argv, int cores, server_options *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof(*out));
    set_defaults(&out->cfg, cores);
    server_config *cfg = &out->cfg;
    int operand = cli_parse(argc, argv, options, apply_option, out, err, errlen);
    if (operand == CLI_STOPPED)
        return 0;
    if (operand < 0)
        return -1;
    if (operand < argc)
        return err_fail(err, errlen, "unexpected argument '%s'", argv[operand]);
    if (server_check_options(cfg, err, errlen) < 0 || check_combinations(cfg, err, errlen) < 0 ||
        check_tls_groups(cfg, err, errlen) < 0 || check_port(cfg, err, errlen) < 0 ||
        default_proxy_from(cfg, err, errlen) < 0)
        return -1;
    /* The event model runs one loop per core unless told otherwise. */
    if (strcmp(cfg->model, "event") == 0 && !(cfg->options_set & MODEL_OPT_WORKERS))
        cfg->workers = cores;
    return 0;
}

void server_options_free(server_options *opts)
{
    free((void *)opts->cfg.access.allow);
    free((void *)opts->cfg.access.deny);
    opts->cfg.access.allow = opts->cfg.access.deny = NULL;
    opts->cfg.access.allow_count = opts->cfg.access.deny_count = 0;
    free((void *)opts->cfg.handler.proxy.from);
    opts->cfg.handler.proxy.from = NULL;
    opts->cfg.handler.proxy.from_count = 0;
}
