/* config.c -- loadgen's run configuration: defaults, command-line parsing and --help. */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cpus.h"
#include "err.h"
#include "parse.h"
#include "target.h"
#include "tls.h"

enum {
    OPT_CONNECT_RATE = CLI_LONG_ONLY,
    OPT_POISSON,
    OPT_WARMUP,
    OPT_TIMEOUT,
    OPT_EXPECT,
    OPT_SEND,
    OPT_SOURCE,
    OPT_JSON,
    OPT_CSV,
    OPT_HGRM,
    OPT_SEED,
    OPT_UDP,
    OPT_UNIX,
    OPT_TLS,
    OPT_TLS_CA,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_MIN,
    OPT_TLS_RESUME,
    OPT_INSECURE,
    OPT_SERVERNAME,
    OPT_INTERVAL,
    OPT_FAIL_IF,
    OPT_STAGE,
    OPT_ABORT_AFTER,
    OPT_HLOG,
    OPT_CSV_INTERVALS,
    OPT_SHARD,
    OPT_START_AT,
    OPT_VERSION,
    OPT_EXPECT_RE,
    OPT_DIALOG,
    OPT_REQUESTS,
};

static const cli_option options[] = {
    {"connections", 'c', 1},
    {"threads", 't', 1},
    {"number", 'n', 1},
    {"duration", 'd', 1},
    {"rate", 'R', 1},
    {"quiet", 'q', 0},
    {"help", 'h', 0},
    {"connect-rate", OPT_CONNECT_RATE, 1},
    {"poisson", OPT_POISSON, 0},
    {"warmup", OPT_WARMUP, 1},
    {"timeout", OPT_TIMEOUT, 1},
    {"expect", OPT_EXPECT, 1},
    {"send", OPT_SEND, 1},
    {"expect-re", OPT_EXPECT_RE, 1},
    {"dialog", OPT_DIALOG, 1},
    {"requests", OPT_REQUESTS, 1},
    {"source", OPT_SOURCE, 1},
    {"json", OPT_JSON, 1},
    {"csv", OPT_CSV, 1},
    {"hgrm", OPT_HGRM, 1},
    {"seed", OPT_SEED, 1},
    {"udp", OPT_UDP, 0},
    {"unix", OPT_UNIX, 1},
    {"tls", OPT_TLS, 0},
    {"tls-ca", OPT_TLS_CA, 1},
    {"tls-cert", OPT_TLS_CERT, 1},
    {"tls-key", OPT_TLS_KEY, 1},
    {"tls-min", OPT_TLS_MIN, 1},
    {"tls-resume", OPT_TLS_RESUME, 0},
    {"insecure", OPT_INSECURE, 0},
    {"servername", OPT_SERVERNAME, 1},
    {"interval", OPT_INTERVAL, 1},
    {"fail-if", OPT_FAIL_IF, 1},
    {"stage", OPT_STAGE, 1},
    {"abort-after", OPT_ABORT_AFTER, 1},
    {"hlog", OPT_HLOG, 1},
    {"csv-intervals", OPT_CSV_INTERVALS, 1},
    {"shard", OPT_SHARD, 1},
    {"start-at", OPT_START_AT, 1},
    {"version", OPT_VERSION, 0},
    {NULL, 0, 0},
};

void config_print_help(FILE *out)
{
    fputs(
        "usage: loadgen [options] [HOST:PORT]   (default target: " CONFIG_DEFAULT_TARGET ")\n"
        "       loadgen [options] --unix PATH\n"
        "       loadgen merge [-o FILE] FILE...\n"
        "       loadgen plot RESULT.json -o FILE.svg|FILE.html\n"
        "\n"
        "Opens connections to a server that speaks first or answers what it is sent (--send,\n"
        "a --dialog, keep-alive --requests), reads each reply until the server closes or its\n"
        "--expect/--expect-re check is met, and reports throughput, errors by cause, the\n"
        "replies by first line and latency percentiles per phase (connect, tls, first byte,\n"
        "whole greeting, each dialog step, each request).\n"
        "HOST:PORT follows the tutorial's rules: a name, a dotted quad, an integer address,\n"
        "[IPv6]:PORT; the port may be a service name.\n"
        "\n"
        "Load shape:\n"
        "  -c, --connections N   closed loop: connections kept in flight, each replaced as soon\n"
        "                        as it ends (default 10); with -R: the cap on connections in\n"
        "                        flight (default 1000)\n"
        "  -t, --threads N       event-loop threads (default: the CPUs it may run on, at most -c)\n"
        "  -R, --rate N          open loop: N connection starts per second on a fixed timetable;\n"
        "                        latency counts from the scheduled start (default: off, closed\n"
        "                        loop)\n"
        "      --poisson         with -R: exponential gaps between starts (default: uniform)\n"
        "      --connect-rate N  closed loop ramp-up: open the -c connections at N per second\n"
        "                        (default: unlimited, all at once)\n"
        "      --seed N          random seed for --poisson (default: from the clock)\n"
        "      --stage DUR:TARGET  a load stage, repeatable, run in order: over DUR the level\n"
        "                        moves linearly to TARGET from the previous stage's (the first\n"
        "                        from 0; with -R from -R's rate): connections in flight in the\n"
        "                        closed loop (--stage 10s:100 --stage 30s:1000 --stage 10s:0),\n"
        "                        starts per second with -R. The stages set the run's length\n"
        "                        (not with -d) and the connections (not with -c, except as\n"
        "                        the cap with -R); --warmup is their first part; with --shard\n"
        "                        the targets are the whole fleet's (default: none)\n"
        "\n"
        "Bounds (a run ends at whichever comes first):\n"
        "  -n, --number N        connections to make after the warm-up; each ends as a greeting\n"
        "                        or a counted error (default: no count bound)\n"
        "  -d, --duration TIME   measured time after the warm-up (default: 10s when -n is not\n"
        "                        given, otherwise no time bound); connections still open at\n"
        "                        the end get one more second (at most --timeout), then count\n"
        "                        as unfinished; greetings in that second are counted (and\n"
        "                        their latencies), not in the rate\n"
        "      --warmup TIME     run this long before measuring; nothing in it is counted\n"
        "                        (default: 0)\n"
        "      --abort-after TIME  stop early, exit 1, when every connection that ended in\n"
        "                        the last TIME failed (a closed port, a dead server); 0 never\n"
        "                        stops (default: 5s). Refused connects are retried at most\n"
        "                        200 times a second per thread, whatever -c is\n"
        "      --timeout TIME    bound on each step of a connection: connect, TLS handshake,\n"
        "                        send, read; 1s with --udp, where a reply not in by then was\n"
        "                        lost (default: 10s)\n"
        "TIME is a number with an optional unit us, ms, s or m (default unit: s).\n"
        "\n"
        "Protocol:\n"
        "      --expect TEXT     the reply must begin with TEXT, however the server splits its\n"
        "                        writes; any other counts as bad_greeting (what arrived is\n"
        "                        shown); the exchange is done once TEXT has arrived, so a\n"
        "                        server that greets and waits (sshd, SMTP) is fine (default:\n"
        "                        any non-empty reply, read until the server closes)\n"
        "      --expect-re REGEX the reply's first line (without \\r\\n) must match REGEX, a\n"
        "                        POSIX extended regular expression (default: none)\n"
        "      --send TEXT       write TEXT after connecting, before reading (default: nothing)\n"
        "TEXT may hold the escapes \\n \\r \\t \\0 \\\\ and \\xHH.\n"
        "      --dialog FILE     run FILE's steps in order on each connection, one a line:\n"
        "                        'expect TEXT', 'expect-re REGEX', 'send TEXT' ('#' starts a\n"
        "                        comment); each expect step is a latency phase of its own\n"
        "                        (expect1, expect2...; at most 8); not with --send, --expect,\n"
        "                        --expect-re or --udp (default: none)\n"
        "      --requests N      keep-alive: after the first exchange (greeting, --send and\n"
        "                        its reply, or the dialog), repeat the request (--send, or the\n"
        "                        dialog's last send and what follows) until the connection made\n"
        "                        N exchanges; 0 = until the run ends (-d). A reply ends with the\n"
        "                        line where its check matched. Timed as the 'request' phase;\n"
        "                        with -R, -R is requests per second over -c connections,\n"
        "                        each timed from its scheduled send (default: 1)\n"
        "      --source LIST     local addresses to connect from, comma-separated (IPv4, or\n"
        "                        IPv6 such as ::1 for an IPv6 target), or a CIDR block on\n"
        "                        127.0.0.0/8 such as 127.0.0.0/24, so that more than one\n"
        "                        ephemeral port range is available (default: the kernel's\n"
        "                        choice)\n"
        "\n"
        "Fleet (one loadgen per host, merged with 'loadgen merge'; see docs/fleet.md):\n"
        "      --shard I/N       run shard I (0..N-1) of N: this process takes its share of -c,\n"
        "                        -R, -n and every --stage target (the shares add up exactly),\n"
        "                        its own --seed, and its own slice of --source when that lists\n"
        "                        several addresses (default: 0/1, the whole test)\n"
        "      --start-at TIME   wait, then start the warm-up at TIME, a Unix time (1764300000)\n"
        "                        or RFC 3339 (2026-11-28T04:00:00Z), so that every shard's\n"
        "                        intervals share the same wall-clock boundaries; a time more\n"
        "                        than 1 s past is refused (default: start at once)\n"
        "\n"
        "Transports (default: TCP):\n"
        "      --udp             request/response by datagram: each start sends one datagram\n"
        "                        (--send) on its own connected socket and reads one reply;\n"
        "                        latency is send to reply, a reply missing after --timeout\n"
        "                        (1s unless given) counts as a timeout; -c is the number of\n"
        "                        requests outstanding. Without --send, the request is\n"
        "                        'greeting?' and zero bytes, 512 in all: a greeter server\n"
        "                        answers only requests at least a third of its greeting's\n"
        "                        size (default: off)\n"
        "      --unix PATH       connect to the UNIX socket PATH instead of HOST:PORT (stream;\n"
        "                        with --udp, datagram from an auto-bound socket) (default: off)\n"
        "      --tls             TLS over each connection; the handshake is the 'tls' latency\n"
        "                        phase (established to handshake done), failures are counted\n"
        "                        as tls_handshake errors by reason; without --expect a greeting\n"
        "                        counts only when it ends with the server's close_notify, an\n"
        "                        EOF without it is a tls_stream error (default: off)\n"
        "      --tls-ca FILE     trust the CAs in FILE (PEM) (default: the system store)\n"
        "      --insecure        do not verify the server's certificate or name (default: verify)\n"
        "      --servername NAME SNI and the name checked in the certificate; an IP literal is\n"
        "                        checked as an IP address (default: the target's host; none\n"
        "                        with --unix)\n"
        "      --tls-cert FILE   client certificate for mutual TLS, with --tls-key FILE\n"
        "      --tls-key FILE    (default: none)\n"
        "      --tls-min VERSION lowest TLS version, 1.2 or 1.3 (default: 1.2)\n"
        "      --tls-resume      resume sessions: each thread offers the last session it got;\n"
        "                        the report counts resumed and full handshakes (default: every\n"
        "                        handshake is full)\n"
        "\n"
        "Output:\n"
        "  -q, --quiet           no progress line on stderr (default: one line per interval,\n"
        "                        with that interval's figures)\n"
        "      --interval TIME   length of the recorded intervals: starts, greetings, errors,\n"
        "                        connections in flight and latency per phase, for each\n"
        "                        interval of wall-clock time after the warm-up (default: 1s)\n"
        "      --json FILE       write the results as JSON; '-' for stdout, in which case the\n"
        "                        human report goes to stderr (default: none)\n"
        "      --csv FILE        write one CSV row per latency phase; '-' for stdout, as for\n"
        "                        --json (default: none)\n"
        "      --csv-intervals FILE  write one CSV row per interval ('-' for stdout) (default:\n"
        "                        none)\n"
        "      --hlog FILE       write the intervals as an HdrHistogram interval log (one line\n"
        "                        per phase and interval, Tag=PHASE, values in us), which\n"
        "                        HdrHistogram's HistogramLogProcessor reads (default: none)\n"
        "      --hgrm DIR        write each phase as an HdrHistogram percentile distribution,\n"
        "                        DIR/PHASE.hgrm, values in ms, with exact bucket counts that\n"
        "                        'loadgen merge' reads (default: none)\n"
        "\n"
        "Pass/fail (for CI):\n"
        "      --fail-if COND    a condition a good run meets, repeatable; at the end each one\n"
        "                        is listed with its measured value, and loadgen exits 3 when\n"
        "                        one does not hold. COND: [PHASE.]pNN<TIME (p99<50ms,\n"
        "                        connect.p999<200ms, max<1s; PHASE defaults to greeting),\n"
        "                        errors<0.1% (share of finished connections; without % a\n"
        "                        count), rate>20000 (greetings/s), unfinished<1 (or a share\n"
        "                        with %); operators < <= > >= (default: none)\n"
        "  -h, --help            this text\n"
        "      --version         print the version and exit\n"
        "\n"
        "JSON fields (docs/loadgen-json.md): target, transport (tcp, tls, udp, unix,\n"
        "unix-dgram), mode, threads, connections, stopped_by (duration, count, signal,\n"
        "abort), starts, greetings, greetings_after_window (finished in the grace after the\n"
        "window), rate (greetings inside the window per second of it), errors {refused,\n"
        "reset, timeout, addr_unavail, fd_limit, bad_greeting, tls_handshake, tls_stream,\n"
        "other, total}, tls_handshakes {full, resumed}, tls_reasons {REASON: count},\n"
        "latency_us {PHASE: {count min p50 p90 p99 p999 max mean stddev hist}} with the phases\n"
        "connect (not for datagrams), tls (--tls only), first_byte, greeting,\n"
        "greeting_uncorrected (-R only), request (--requests), expect1.. (--dialog),\n"
        "requests, failed_requests, request_rate, replies and failed_replies {FIRST LINE:\n"
        "count}, waited_after_reply, intervals [...], host, start_unix_ns, cpu, kernel.\n"
        "\n"
        "loadgen merge [-o FILE] FILE.json...  merges the --json results of a fleet's shards\n"
        "into the fleet's (exact percentiles; mismatched or missing shards are refused);\n"
        "loadgen merge [-o FILE] FILE.hgrm...  adds the exact bucket counts of .hgrm files.\n"
        "loadgen plot RESULT.json -o FILE.svg|FILE.html  draws a result: rates, in flight and\n"
        "latency over time, the percentile spectrum. 'loadgen merge --help', 'loadgen plot\n"
        "--help' say more.\n"
        "\n"
        "Exit status: 0 when at least one greeting (or --requests request) succeeded, 1 when\n"
        "none did (or the run could not start, or --abort-after stopped it), 2 for bad usage\n"
        "(a bad port or service name included), 3 when a --fail-if condition was not met.\n"
        "SIGINT or SIGTERM ends the run early and still reports (marked interrupted); a\n"
        "second one while the connections close exits at once (128 + the signal), with no\n"
        "report.\n",
        out);
}

static int parse_rate(const char *option, const char *text, double *out, char *err,
                      size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || v <= 0 || v > 1e7) {
        snprintf(err, errlen, "%s: '%s' is not a rate (a number of starts per second, >0)",
                 option, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_time(const char *option, const char *text, long long min_us, long long *out,
                      char *err, size_t errlen)
{
    if (parse_duration_us(option, text, "s", out, err, errlen) != 0)
        return -1;
    if (*out < min_us) {
        snprintf(err, errlen, "%s: '%s' is too short", option, text);
        return -1;
    }
    return 0;
}

static int parse_text(const char *option, const char *text, char **out, size_t *outlen,
                      char *err, size_t errlen)
{
    char why[CONFIG_ERRLEN];
    free(*out);
    *out = NULL;
    if (dialog_unescape(text, out, outlen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", option, why);
        return -1;
    }
    if (*outlen == 0) {
        snprintf(err, errlen, "%s: empty text", option);
        return -1;
    }
    return 0;
}

/* An apply_* group's answer for an option of another group. */
#define NOT_MINE 2

/* What the options set besides the configuration: whether -c was given. */
typedef struct parse_state {
    lg_config *cfg;
    int connections_given;
} parse_state;

/* The load: how much, how long, at what pace. */
static int apply_load_option(parse_state *ps, int key, const char *arg, char *err, size_t errlen)
{
    lg_config *cfg = ps->cfg;
    long v;
    switch (key) {
    case 'c':
        ps->connections_given = 1;
        return parse_long("-c", arg, 1, 1000000, &cfg->connections, err, errlen);
    case 't':
        if (parse_long("-t", arg, 1, 256, &v, err, errlen) != 0)
            return -1;
        cfg->threads = (int)v;
        return CLI_GO_ON;
    case 'n':
        if (parse_long("-n", arg, 1, 1000000000000L, &v, err, errlen) != 0)
            return -1;
        cfg->total = v;
        return CLI_GO_ON;
    case 'd': return parse_time("-d", arg, 1000, &cfg->duration_us, err, errlen);
    case 'R': return parse_rate("-R", arg, &cfg->rate, err, errlen);
    case OPT_CONNECT_RATE:
        return parse_long("--connect-rate", arg, 1, 10000000, &cfg->connect_rate, err, errlen);
    case OPT_POISSON: cfg->poisson = 1; return CLI_GO_ON;
    case OPT_SEED:
        if (parse_long("--seed", arg, 1, LONG_MAX, &v, err, errlen) != 0)
            return -1;
        cfg->seed = (uint64_t)v;
        return CLI_GO_ON;
    case OPT_WARMUP: return parse_time("--warmup", arg, 0, &cfg->warmup_us, err, errlen);
    case OPT_STAGE: return stages_add(&cfg->stages, arg, err, errlen);
    case OPT_ABORT_AFTER:
        return parse_time("--abort-after", arg, 0, &cfg->abort_after_us, err, errlen);
    case OPT_SHARD: return shard_parse(arg, &cfg->shard, err, errlen);
    case OPT_START_AT: return shard_parse_time(arg, &cfg->start_at_ns, err, errlen);
    }
    return NOT_MINE;
}

/* What one connection does: what it sends, what it expects, how many times, how long. */
static int apply_exchange_option(lg_config *cfg, int key, const char *arg, char *err,
                                 size_t errlen)
{
    long v;
    switch (key) {
    case OPT_TIMEOUT: return parse_time("--timeout", arg, 1000, &cfg->timeout_us, err, errlen);
    case OPT_EXPECT:
        return parse_text("--expect", arg, &cfg->expect, &cfg->expect_len, err, errlen);
    case OPT_SEND: return parse_text("--send", arg, &cfg->send, &cfg->send_len, err, errlen);
    case OPT_EXPECT_RE: cfg->expect_re = arg; return CLI_GO_ON;
    case OPT_DIALOG: cfg->dialog_path = arg; return CLI_GO_ON;
    case OPT_REQUESTS:
        if (parse_long("--requests", arg, 0, 1000000000000L, &v, err, errlen) != 0)
            return -1;
        cfg->requests = v;
        return CLI_GO_ON;
    }
    return NOT_MINE;
}

/* How and from where loadgen connects. */
static int apply_transport_option(lg_config *cfg, int key, const char *arg, char *err,
                                  size_t errlen)
{
    switch (key) {
    case OPT_UDP: cfg->udp = 1; return CLI_GO_ON;
    case OPT_UNIX: cfg->unix_path = arg; return CLI_GO_ON;
    case OPT_SOURCE: cfg->sources = arg; return CLI_GO_ON;
    case OPT_TLS: cfg->tls = 1; return CLI_GO_ON;
    case OPT_TLS_CA: cfg->tls_ca = arg; return CLI_GO_ON;
    case OPT_TLS_CERT: cfg->tls_cert = arg; return CLI_GO_ON;
    case OPT_TLS_KEY: cfg->tls_key = arg; return CLI_GO_ON;
    case OPT_TLS_RESUME: cfg->tls_resume = 1; return CLI_GO_ON;
    case OPT_INSECURE: cfg->insecure = 1; return CLI_GO_ON;
    case OPT_SERVERNAME: cfg->servername = arg; return CLI_GO_ON;
    case OPT_TLS_MIN:
        if ((cfg->tls_min = tls_parse_version(arg)) < 0)
            return err_fail(err, errlen, "--tls-min: '%s' is not 1.2 or 1.3", arg);
        return CLI_GO_ON;
    }
    return NOT_MINE;
}

/* What the run writes and judges, and the options that stop parsing. */
static int apply_output_option(lg_config *cfg, int key, const char *arg, char *err,
                               size_t errlen)
{
    switch (key) {
    case 'q': cfg->quiet = 1; return CLI_GO_ON;
    case OPT_JSON: cfg->json_path = arg; return CLI_GO_ON;
    case OPT_CSV: cfg->csv_path = arg; return CLI_GO_ON;
    case OPT_HGRM: cfg->hgrm_dir = arg; return CLI_GO_ON;
    case OPT_HLOG: cfg->hlog_path = arg; return CLI_GO_ON;
    case OPT_CSV_INTERVALS: cfg->csv_intervals_path = arg; return CLI_GO_ON;
    case OPT_INTERVAL:
        return parse_time("--interval", arg, 10000, &cfg->interval_us, err, errlen);
    case OPT_FAIL_IF:
        if (cfg->nfail_if == FAILIF_MAX)
            return err_fail(err, errlen, "--fail-if: at most %d conditions", FAILIF_MAX);
        return failif_parse(arg, &cfg->fail_if[cfg->nfail_if++], err, errlen);
    case 'h': cfg->help = 1; return CLI_STOP;
    case OPT_VERSION: cfg->version = 1; return CLI_STOP;
    }
    return NOT_MINE;
}

/* Applies one option (cli_apply_fn): the group it belongs to sets it. */
static int apply_option(void *ctx, int key, const char *arg, char *err, size_t errlen)
{
    parse_state *ps = ctx;
    int rc = apply_load_option(ps, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_exchange_option(ps->cfg, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_transport_option(ps->cfg, key, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = apply_output_option(ps->cfg, key, arg, err, errlen);
    return rc == NOT_MINE ? err_fail(err, errlen, "unexpected option") : rc;
}

/* The name of the first TLS option given without --tls, or NULL. */
static const char *tls_option_without_tls(const lg_config *cfg)
{
    if (cfg->tls)
        return NULL;
    return cfg->tls_ca       ? "--tls-ca"
           : cfg->tls_cert   ? "--tls-cert"
           : cfg->tls_key    ? "--tls-key"
           : cfg->servername ? "--servername"
           : cfg->insecure   ? "--insecure"
           : cfg->tls_min    ? "--tls-min"
           : cfg->tls_resume ? "--tls-resume"
                             : NULL;
}

/* Rules between the transport options; 0 or -1 with err. */
static int check_transport(lg_config *cfg, char *err, size_t errlen)
{
    const char *stray = tls_option_without_tls(cfg);
    if (stray)
        return snprintf(err, errlen, "%s goes with --tls", stray), -1;
    if (cfg->tls && !tls_available())
        return snprintf(err, errlen, "--tls: %s", TLS_NOT_BUILT_IN), -1;
    if (cfg->tls && cfg->udp)
        return snprintf(err, errlen, "--tls does not apply with --udp (DTLS is not supported)"),
               -1;
    if (!cfg->tls_cert != !cfg->tls_key)
        return snprintf(err, errlen, "--tls-cert and --tls-key go together"), -1;
    if (cfg->unix_path && cfg->sources)
        return snprintf(err, errlen, "--source does not apply with --unix"), -1;
    if (cfg->udp && !cfg->send) { /* large enough for greeter's anti-amplification */
        cfg->send = malloc(NET_UDP_REQUEST_SIZE + 1);
        if (!cfg->send)
            return snprintf(err, errlen, "out of memory"), -1;
        net_udp_request(cfg->send, NET_UDP_REQUEST_SIZE + 1);
        cfg->send_len = NET_UDP_REQUEST_SIZE;
    }
    return 0;
}

/* Cuts the whole test's -c, -R and -n to this shard's share (the --stage plan stays the
 * fleet's: the engine takes the shard's share of its level); 0 or -1 with err. */
static int apply_shard(lg_config *cfg, int connections_given, char *err, size_t errlen)
{
    const shard_spec *s = &cfg->shard;
    if (s->count == 1)
        return 0;
    if (cfg->rate == 0 || connections_given) { /* the open loop's default cap is per process */
        if (shard_share(cfg->connections, s) == 0)
            return snprintf(err, errlen, "--shard %ld/%ld: -c %ld leaves shard %ld no connection "
                            "(give -c at least %ld)", s->index, s->count, cfg->connections,
                            s->index, s->count), -1;
        cfg->connections = (long)shard_share(cfg->connections, s);
    }
    if (cfg->total && shard_share(cfg->total, s) == 0)
        return snprintf(err, errlen, "--shard %ld/%ld: -n %lld leaves shard %ld nothing to do "
                        "(give -n at least %ld)", s->index, s->count, cfg->total, s->index,
                        s->count), -1;
    cfg->total = cfg->total ? shard_share(cfg->total, s) : 0;
    cfg->rate = shard_share_rate(cfg->rate, s);
    return 0;
}

/* A --fail-if condition on a phase this run does not have is refused, not ignored. */
static int check_fail_if(const lg_config *cfg, char *err, size_t errlen)
{
    for (int i = 0; i < cfg->nfail_if; i++) {
        const failif_cond *c = &cfg->fail_if[i];
        const char *why = NULL;
        if (c->kind != FAILIF_LATENCY)
            continue;
        if (c->phase == LG_PHASE_TLS && !cfg->tls)
            why = "the tls phase needs --tls";
        else if (c->phase == LG_PHASE_GREETING_UNCORRECTED && (cfg->rate <= 0 || cfg->requests != 1))
            why = "greeting_uncorrected needs an open-loop rate (-R) without --requests";
        else if (c->phase == LG_PHASE_CONNECT && cfg->udp)
            why = "datagrams have no connect phase";
        else if (c->phase == LG_PHASE_REQUEST && cfg->requests == 1)
            why = "the request phase needs --requests";
        else if (c->phase >= LG_PHASE_EXPECT1 &&
                 (!cfg->dialog.from_file || c->phase - LG_PHASE_EXPECT1 >= cfg->dialog.nexpects))
            why = "no such expect step in the --dialog";
        if (why)
            return snprintf(err, errlen, "--fail-if '%s': %s", c->text, why), -1;
    }
    return 0;
}

/* --stage against the options it replaces: -d (the length), -c (closed loop), --connect-rate
 * (the ramp). The warm-up is the stages' first part; the rest is measured. */
static int check_stages(lg_config *cfg, int connections_given, char *err, size_t errlen)
{
    stage_plan *plan = &cfg->stages;
    if (!plan->n)
        return 0;
    long long total = stages_total_us(plan);
    if (cfg->duration_us)
        return snprintf(err, errlen, "-d does not apply with --stage: the stages set the run's "
                                     "length (their sum); drop -d or the stages"), -1;
    if (cfg->connect_rate)
        return snprintf(err, errlen, "--connect-rate does not apply with --stage: the stages "
                                     "are the ramp"), -1;
    if (cfg->warmup_us >= total)
        return snprintf(err, errlen, "--warmup must be shorter than the stages (%.3gs in all): "
                                     "the warm-up is their first part", (double)total / 1e6), -1;
    if (cfg->rate > 0) {
        plan->start_level = cfg->rate;
    } else {
        if (connections_given)
            return snprintf(err, errlen, "-c does not apply with --stage in the closed loop: "
                                         "the stage targets are the connections in flight"), -1;
        if (stages_peak(plan) < 1 || stages_peak(plan) > 1000000)
            return snprintf(err, errlen, "--stage: the closed loop needs a target of 1 to "
                                         "1000000 connections"), -1;
        cfg->connections = (long)ceil(stages_peak(plan));
    }
    cfg->duration_us = total - cfg->warmup_us;
    return 0;
}

/* Cross-option rules and defaults that depend on several options. */
/* The steps each connection runs, from --dialog or from --send/--expect/--expect-re, and the
 * rules that go with them; 0 or -1 with err. */
static int build_dialog(lg_config *cfg, char *err, size_t errlen)
{
    char why[CONFIG_ERRLEN];
    if (cfg->dialog_path && cfg->udp)
        return snprintf(err, errlen, "--dialog does not apply with --udp (a datagram carries "
                        "one request and one reply)"), -1;
    if (cfg->dialog_path && (cfg->send || cfg->expect || cfg->expect_re))
        return snprintf(err, errlen, "--dialog does not go with --send, --expect or "
                        "--expect-re (put them in the dialog file as steps)"), -1;
    if (cfg->requests != 1 && cfg->udp)
        return snprintf(err, errlen, "--requests does not apply with --udp (a datagram carries "
                        "one request and one reply)"), -1;
    if (cfg->expect && cfg->expect_re)
        return snprintf(err, errlen, "--expect and --expect-re: give one of them"), -1;
    int rc = cfg->dialog_path
                 ? dialog_load(&cfg->dialog, cfg->dialog_path, LG_DIALOG_EXPECTS, why, sizeof(why))
                 : dialog_from_options(&cfg->dialog, cfg->send, cfg->send_len, cfg->expect,
                                       cfg->expect_len, cfg->expect_re, why, sizeof(why));
    if (rc != 0)
        return snprintf(err, errlen, "%s: %s", cfg->dialog_path ? "--dialog" : "--expect-re",
                        why), -1;
    if (cfg->requests != 1 && !dialog_repeatable(&cfg->dialog))
        return snprintf(err, errlen, cfg->dialog_path
                        ? "--requests: the dialog must end with a send step and the expect "
                          "step(s) after it: that is the request repeated"
                        : "--requests needs a request to repeat: give --send (with --expect or "
                          "--expect-re to say where each reply ends)"), -1;
    return 0;
}

static int finish_config(lg_config *cfg, int connections_given, char *err, size_t errlen)
{
    if (check_transport(cfg, err, errlen) != 0 || build_dialog(cfg, err, errlen) != 0 ||
        check_fail_if(cfg, err, errlen) != 0 ||
        check_stages(cfg, connections_given, err, errlen) != 0)
        return -1;
    if (cfg->poisson && cfg->rate == 0)
        return snprintf(err, errlen, "--poisson needs an open-loop rate (-R)"), -1;
    if (cfg->connect_rate && cfg->rate > 0)
        return snprintf(err, errlen, "--connect-rate shapes the closed loop; drop it with -R"),
               -1;
    if (cfg->requests != 1 && (cfg->stages.n || cfg->poisson))
        return snprintf(err, errlen, "%s does not apply with --requests (which keeps -c "
                        "connections open)", cfg->stages.n ? "--stage" : "--poisson"), -1;
    if (cfg->rate > 0 && !connections_given && cfg->requests == 1)
        cfg->connections = CONFIG_DEFAULT_OPEN_LOOP_CAP;
    if (cfg->total == 0 && cfg->duration_us == 0)
        cfg->duration_us = CONFIG_DEFAULT_DURATION_US;
    if (cfg->timeout_us == 0) /* not given */
        cfg->timeout_us = cfg->udp ? CONFIG_DEFAULT_UDP_TIMEOUT_US : CONFIG_DEFAULT_TIMEOUT_US;
    if (cfg->requests == 0 && cfg->duration_us == 0)
        return snprintf(err, errlen, "--requests 0 keeps each connection until the run ends: "
                        "give -d (with -n alone the run would never end)"), -1;
    if (apply_shard(cfg, connections_given, err, errlen) != 0)
        return -1;
    if (cfg->threads == 0) {
        int cores = cpus_usable();
        cfg->threads = cores > 256 ? 256 : cores;
    }
    if (cfg->threads > cfg->connections)
        cfg->threads = (int)cfg->connections;
    if (cfg->seed == 0)
        cfg->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (cfg->shard.count > 1)
        cfg->seed = shard_seed(cfg->seed, &cfg->shard);
    return 0;
}

int config_parse(int argc, char **argv, lg_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connections = CONFIG_DEFAULT_CONNECTIONS;
    cfg->requests = 1;
    cfg->interval_us = CONFIG_DEFAULT_INTERVAL_US;
    cfg->abort_after_us = CONFIG_DEFAULT_ABORT_AFTER_US;
    cfg->shard.count = 1;
    parse_state ps = {.cfg = cfg};
    int operand = cli_parse(argc, argv, options, apply_option, &ps, err, errlen);
    if (operand == CLI_STOPPED)
        return 0;
    if (operand < 0)
        return -1;
    /* --unix PATH takes the place of HOST:PORT; with neither, the server's default. */
    int targets = cfg->unix_path || operand == argc ? 0 : 1;
    cfg->default_target = !cfg->unix_path && operand == argc;
    if (cfg->default_target)
        memcpy(cfg->target, CONFIG_DEFAULT_TARGET, sizeof(CONFIG_DEFAULT_TARGET));
    if (argc - operand > targets)
        return err_fail(err, errlen,
                           cfg->unix_path ? "unexpected argument '%s' (--unix PATH is the target)"
                                          : "unexpected argument '%s'",
                           argv[operand + targets]);
    if (targets && strlen(argv[operand]) >= sizeof(cfg->target))
        return err_fail(err, errlen, "%s", "target HOST:PORT is too long");
    if (targets)
        memcpy(cfg->target, argv[operand], strlen(argv[operand]) + 1); /* fits: checked above */
    if (!cfg->unix_path &&
        target_check_syntax(cfg->target, cfg->udp ? SOCK_DGRAM : SOCK_STREAM, err, errlen) != 0)
        return -1;
    return finish_config(cfg, ps.connections_given, err, errlen);
}

void config_free(lg_config *cfg)
{
    free(cfg->expect);
    free(cfg->send);
    cfg->expect = cfg->send = NULL;
    dialog_free(&cfg->dialog);
}
