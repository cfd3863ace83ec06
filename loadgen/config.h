/* config.h -- loadgen's run configuration: defaults, command-line parsing and --help. */
#ifndef LOADGEN_CONFIG_H
#define LOADGEN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "dialog.h"
#include "failif.h"
#include "stages.h"
#include "shard.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CONFIG_ERRLEN 512

/* Defaults, printed by --help. */
#define CONFIG_DEFAULT_CONNECTIONS 10
#define CONFIG_DEFAULT_OPEN_LOOP_CAP 1000
#define CONFIG_DEFAULT_DURATION_US 10000000LL
#define CONFIG_DEFAULT_TIMEOUT_US 10000000LL
/* A datagram's reply comes at once or never: a lost one should not hold its slot 10 s. */
#define CONFIG_DEFAULT_UDP_TIMEOUT_US 1000000LL
#define CONFIG_DEFAULT_INTERVAL_US 1000000LL
#define CONFIG_DEFAULT_ABORT_AFTER_US 5000000LL
/* With no HOST:PORT and no --unix: the server's own default address. */
#define CONFIG_DEFAULT_TARGET "localhost:12345"

typedef struct lg_config {
    char target[ADDR_HOSTLEN + ADDR_PORTLEN + 4]; /* HOST:PORT as given; "" with --unix */
    int default_target;      /* no target was given: CONFIG_DEFAULT_TARGET */
    const char *unix_path;   /* --unix PATH: connect to a UNIX socket instead of HOST:PORT */
    int udp;                 /* --udp: one datagram out, one back (SOCK_DGRAM) */
    int tls;                 /* --tls and the options that go with it (see tls.h) */
    const char *tls_ca;      /* --tls-ca FILE, NULL = the system store */
    const char *tls_cert;    /* --tls-cert/--tls-key: a client certificate (mutual TLS) */
    const char *tls_key;
    const char *servername;  /* --servername, NULL = the target's host (none for --unix) */
    int insecure;            /* --insecure: no verification of the server */
    int tls_min;             /* --tls-min: 0, TLS_VERSION_1_2 or TLS_VERSION_1_3 */
    int tls_resume;          /* --tls-resume: offer each thread's last session */
    int threads;             /* -t: event-loop threads */
    long connections;        /* -c: in flight (closed loop) or the cap on it (open loop) */
    long connect_rate;       /* --connect-rate: ramp-up opens per second, 0 = unlimited */
    double rate;             /* -R: open-loop starts per second, 0 = closed loop */
    int poisson;             /* --poisson: exponential gaps between open-loop starts */
    long long total;         /* -n: connections to make after warm-up, 0 = no count bound */
    long long duration_us;   /* -d: measured run length, 0 = no time bound */
    long long warmup_us;     /* --warmup: time before measuring */
    long long timeout_us;    /* --timeout: bound on each step of a connection */
    char *expect;            /* --expect: the reply must begin with it, NULL = no such check */
    size_t expect_len;
    const char *expect_re;   /* --expect-re: a regex its first line must match, NULL = none */
    char *send;              /* --send: payload written after connecting, NULL = none */
    size_t send_len;
    const char *dialog_path; /* --dialog FILE: the steps, instead of --send/--expect */
    lg_dialog dialog;        /* what each connection runs: the file's steps, or the options' */
    long long requests;      /* --requests: exchanges per connection, 0 = until the run ends */
    const char *sources;     /* --source: ADDR[,ADDR...] or CIDR, NULL = kernel's choice */
    int quiet;               /* -q: no progress line */
    int help;                /* --help: print the usage, run nothing */
    int version;             /* --version: print it, run nothing */
    const char *json_path;   /* --json FILE, "-" = stdout */
    const char *csv_path;    /* --csv FILE */
    const char *hgrm_dir;    /* --hgrm DIR */
    const char *hlog_path;   /* --hlog FILE: HdrHistogram interval log */
    const char *csv_intervals_path; /* --csv-intervals FILE: one row per interval */
    long long interval_us;   /* --interval: length of the recorded intervals */
    long long abort_after_us; /* --abort-after: stop when every attempt failed this long; 0 = never */
    stage_plan stages;       /* --stage: connections (closed loop) or starts/s (-R) over time */
    failif_cond fail_if[FAILIF_MAX]; /* --fail-if, in the order given */
    int nfail_if;
    uint64_t seed;           /* --seed: for --poisson (with --shard: this shard's own) */
    shard_spec shard;        /* --shard I/N: -c, -R, -n already cut to this shard's share */
    int64_t start_at_ns;     /* --start-at: Unix time in ns to start the warm-up, 0 = now */
} lg_config;

/*
 * Fills cfg from argv (argv[0] is the program) and checks the options against each other and
 * the target's syntax and port (no name lookup); with --help (--version) it sets cfg->help
 * (cfg->version) and checks nothing more. Does no I/O and never exits. 0, or -1 with one
 * line naming the problem in err (a usage error: exit 2), the convention of every greeter
 * tool's parser. The strings cfg points to are argv's or allocated copies (expect, send, the
 * dialog) released by config_free, which is safe after a failure too.
 */
int config_parse(int argc, char **argv, lg_config *cfg, char *err, size_t errlen);
void config_free(lg_config *cfg);

/* Prints the --help text: every option with its default. */
void config_print_help(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
