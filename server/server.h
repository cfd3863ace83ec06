/* server.h -- the server's configuration and the concurrency models that run it. */
#ifndef GREETER_SERVER_H
#define GREETER_SERVER_H

#include <stddef.h>

#include "handler.h"
#include "metrics.h"
#include "stats.h"
#include "admission.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { OVERLOAD_BLOCK = 0, OVERLOAD_REJECT = 1 } overload_policy;

/* Options that only some models understand; a model lists the ones it accepts, and an option
 * given for a model that does not accept it is refused rather than silently ignored. */
enum {
    MODEL_OPT_WORKERS = 1u << 0,
    MODEL_OPT_QUEUE = 1u << 1,
    MODEL_OPT_OVERLOAD = 1u << 2,
    MODEL_OPT_MAX_CHILDREN = 1u << 3,
    MODEL_OPT_MAX_THREADS = 1u << 4,
    MODEL_OPT_UDP = 1u << 5,
    MODEL_OPT_HAND_OFF = 1u << 6,
};

/* Everything the command line sets; filled by main.c, read-only afterwards. */
typedef struct server_config {
    const char *model;  /* "pool" (default), see server_models() */
    const char *host;   /* tutorial host rules; default "localhost" */
    const char *port;   /* number or service name; "0" picks a free port */
    int workers;        /* pool and prefork: worker threads or processes */
    int queue_capacity; /* pool: accepted connections waiting for a worker */
    int backlog;
    int ipv6_only;         /* on an IPv6 address, refuse IPv4 clients (no dual-stack) */
    const char *unix_path; /* listen on this UNIX socket instead of host:port */
    int unix_mode;         /* permissions for the UNIX socket file; -1 keeps the umask's */
    int udp;               /* datagrams instead of connections */
    int udp_max;           /* largest datagram answered; larger ones are dropped */
    int udp_amplification; /* a reply at most this many times the request; 0: no limit */
    tls_server_opts tls;   /* TLS is on when tls.cert_file is set */
    admission_config access; /* --allow, --deny, --max-conns, --max-per-ip, --rate-per-ip */
    const char *user;        /* drop root to this user after binding; NULL: stay */
    const char *group;       /* with user: this group instead of the user's own */
    overload_policy overload;
    int max_children;     /* fork: children alive at once */
    int max_threads;      /* thread: connection threads alive at once */
    int always_hand_off;  /* pool: every connection goes to a worker, bare greetings too */
    unsigned options_set; /* MODEL_OPT_* bits the user gave explicitly */
    int quiet;
    const char *metrics;  /* --metrics [HOST:]PORT: serve the Prometheus page there; NULL: off */
    handler_config handler;
    const char *greeting_file;  /* --greeting-file: re-read on SIGHUP */
    int address_given;          /* -H, -p or --unix was given (refused with LISTEN_FDS) */
    const char *upgrade_binary; /* SIGUSR2 starts this (default: the running executable) */
    char *const *argv;          /* ... with these arguments (main's argv) */
} server_config;

/* The running server as a model sees it. The model owns nothing here. */
typedef struct server {
    const server_config *cfg;
    int listen_fd;
    const int *loop_fds; /* the event model's further listeners on listen_fd's address */
    int loop_count;
    server_stats *stats;
    metrics *metrics; /* NULL without --metrics; the pool shows it its queue */
} server;

/* A model runs until shutdown is requested, drains what it accepted, and returns 0, or -1
 * with a message in err when it could not start. */
typedef int (*model_run_fn)(server *srv, char *err, size_t errlen);

typedef struct server_model {
    const char *name;
    const char *summary; /* one line for --help */
    model_run_fn run;
    unsigned accepts;     /* MODEL_OPT_* bits that mean something to this model */
    int reuseport;        /* the listener needs SO_REUSEPORT (the model adds more listeners) */
} server_model;

/* The table of models, ended by an entry with a NULL name. */
const server_model *server_models(void);
const server_model *server_find_model(const char *name);

/* Checks cfg->options_set against the model; 0, or -1 with "--queue does not apply to ...". */
int server_check_options(const server_config *cfg, char *err, size_t errlen);

/* Listens (or takes the listeners systemd or an upgrading predecessor passed), prints
 * "listening on HOST:PORT" for each, runs the model on each, prints the summary. Returns the
 * process exit status: 0 after a clean drain, 1 when it could not start (message printed). */
int server_run(const server_config *cfg);

int model_pool_run(server *srv, char *err, size_t errlen);
int model_iterative_run(server *srv, char *err, size_t errlen);
int model_fork_run(server *srv, char *err, size_t errlen);
int model_prefork_run(server *srv, char *err, size_t errlen);
int model_thread_run(server *srv, char *err, size_t errlen);
int model_event_run(server *srv, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
