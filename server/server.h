/* server.h -- the server's configuration and the concurrency models that run it. */
#ifndef GREETER_SERVER_H
#define GREETER_SERVER_H

#include <stddef.h>

#include "handler.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { OVERLOAD_BLOCK = 0, OVERLOAD_REJECT = 1 } overload_policy;

/* Everything the command line sets; filled by main.c, read-only afterwards. */
typedef struct server_config {
    const char *model;  /* "pool" (default), see server_models() */
    const char *host;   /* tutorial host rules; default "localhost" */
    const char *port;   /* number or service name; "0" picks a free port */
    int workers;        /* pool and prefork: worker threads or processes */
    int queue_capacity; /* pool: accepted connections waiting for a worker */
    int backlog;
    overload_policy overload;
    int quiet;
    handler_config handler;
} server_config;

/* The running server as a model sees it. The model owns nothing here. */
typedef struct server {
    const server_config *cfg;
    int listen_fd;
    server_stats *stats;
} server;

/* A model runs until shutdown is requested, drains what it accepted, and returns 0, or -1
 * with a message in err when it could not start. */
typedef int (*model_run_fn)(server *srv, char *err, size_t errlen);

typedef struct server_model {
    const char *name;
    const char *summary; /* one line for --help */
    model_run_fn run;
} server_model;

/* The table of models, ended by an entry with a NULL name. */
const server_model *server_models(void);
const server_model *server_find_model(const char *name);

/* Listens, prints "listening on HOST:PORT", runs the model, prints the summary. Returns the
 * process exit status: 0 after a clean drain, 1 when it could not start (message printed). */
int server_run(const server_config *cfg);

int model_pool_run(server *srv, char *err, size_t errlen);
int model_iterative_run(server *srv, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
