/* server.c -- listen, print where, run the chosen model, print the summary. */
#include "server.h"

#include "log.h"
#include "net.h"
#include "privdrop.h"
#include "shutdown.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const server_model models[] = {
    {"pool", "accept thread -> bounded queue -> worker threads (default)", model_pool_run,
     MODEL_OPT_WORKERS | MODEL_OPT_QUEUE | MODEL_OPT_OVERLOAD | MODEL_OPT_UDP, 0},
    {"fork", "a child process per connection (capped by --max-children)", model_fork_run,
     MODEL_OPT_MAX_CHILDREN | MODEL_OPT_OVERLOAD, 0},
    {"prefork", "-w processes, each accepting on the shared listener", model_prefork_run,
     MODEL_OPT_WORKERS, 0},
    {"thread", "a thread per connection (capped by --max-threads)", model_thread_run,
     MODEL_OPT_MAX_THREADS | MODEL_OPT_OVERLOAD, 0},
    {"iterative", "the tutorial's loop: accept, greet, close, one client at a time",
     model_iterative_run, MODEL_OPT_UDP, 0},
    {"event", "-w epoll loops (default one per core) on SO_REUSEPORT listeners", model_event_run,
     MODEL_OPT_WORKERS | MODEL_OPT_UDP, 1},
    {NULL, NULL, NULL, 0, 0},
};

static const struct {
    unsigned bit;
    const char *option;
} model_options[] = {
    {MODEL_OPT_WORKERS, "--workers"},
    {MODEL_OPT_QUEUE, "--queue"},
    {MODEL_OPT_OVERLOAD, "--overload"},
    {MODEL_OPT_MAX_CHILDREN, "--max-children"},
    {MODEL_OPT_MAX_THREADS, "--max-threads"},
    {MODEL_OPT_UDP, "--udp"},
};

int server_check_options(const server_config *cfg, char *err, size_t errlen)
{
    const server_model *model = server_find_model(cfg->model);
    if (model == NULL) {
        snprintf(err, errlen, "--model: unknown model '%s' (see --help for the list)", cfg->model);
        return -1;
    }
    for (size_t i = 0; i < sizeof(model_options) / sizeof(model_options[0]); i++) {
        if ((cfg->options_set & model_options[i].bit) && !(model->accepts & model_options[i].bit)) {
            snprintf(err, errlen, "%s does not apply to the %s model (see --help)",
                     model_options[i].option, model->name);
            return -1;
        }
    }
    return 0;
}

const server_model *server_models(void) { return models; }

const server_model *server_find_model(const char *name)
{
    for (const server_model *m = models; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

/* Prints a line on stdout with one write, so a reader of the pipe sees it at once. */
static void print_line(const char *line)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s\n", line);
    ssize_t ignored = write(STDOUT_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    (void)ignored;
}

/* Builds what every process shares (TLS context, admission state) into run_cfg's handler,
 * before any fork. 0, or -1 with err. */
static int setup_shared(server_config *run_cfg, char *err, size_t errlen)
{
    const admission_config *a = &run_cfg->access;
    if (run_cfg->tls.cert_file) {
        run_cfg->handler.tls = tls_ctx_new_server(&run_cfg->tls, err, errlen);
        if (run_cfg->handler.tls == NULL)
            return -1;
    }
    if (a->allow_count || a->deny_count || a->max_conns || a->max_per_ip) {
        run_cfg->handler.admission = admission_create(a, err, errlen);
        if (run_cfg->handler.admission == NULL)
            return -1;
    }
    return 0;
}

static void teardown_shared(server_config *run_cfg)
{
    tls_ctx_free(run_cfg->handler.tls);
    admission_destroy(run_cfg->handler.admission);
}

/* The listening socket the configuration asks for; -1 with err (and a hint when in use). */
static int open_listener(const server_config *cfg, const server_model *model, char *err,
                         size_t errlen)
{
    int socktype = cfg->udp ? SOCK_DGRAM : SOCK_STREAM;
    if (cfg->unix_path)
        return net_listen_unix(cfg->unix_path, socktype, cfg->backlog, cfg->unix_mode, err, errlen);
    net_listen_opts opts = {.socktype = socktype, .backlog = cfg->backlog,
                            .reuseport = model->reuseport, .ipv6_only = cfg->ipv6_only};
    int in_use = 0;
    int fd = net_listen(cfg->host, cfg->port, &opts, &in_use, err, errlen);
    if (fd < 0 && in_use) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (another server is on that port: stop it or pick another with -p)");
    }
    return fd;
}

/* After binding: the UNIX socket file goes to the new user (so it can remove it at exit),
 * then the process becomes that user. */
static int drop_privileges(const server_config *cfg, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    if (privdrop_lookup(cfg->user, cfg->group, &uid, &gid, err, errlen) < 0)
        return -1;
    if (cfg->unix_path && chown(cfg->unix_path, uid, gid) < 0) {
        snprintf(err, errlen, "chown %s: %s", cfg->unix_path, strerror(errno));
        return -1;
    }
    if (privdrop_apply(cfg->user, cfg->group, err, errlen) < 0)
        return -1;
    if (!cfg->quiet)
        log_info("running as user %s (uid %u, gid %u)", cfg->user, (unsigned)uid, (unsigned)gid);
    return 0;
}

/* The most connections the model serves at once, for the metrics page. */
static uint64_t model_capacity(const server_config *cfg)
{
    if (strcmp(cfg->model, "fork") == 0)
        return (uint64_t)cfg->max_children;
    if (strcmp(cfg->model, "thread") == 0)
        return (uint64_t)cfg->max_threads;
    if (strcmp(cfg->model, "iterative") == 0)
        return 1;
    return (uint64_t)cfg->workers; /* pool threads, prefork processes, event loops */
}

/* Binds --metrics (before dropping root, like the listener) and starts serving it. */
static metrics *start_metrics(const server_config *cfg, int listen_fd, server_stats *stats,
                              char *err, size_t errlen)
{
    metrics_info info = {.model = cfg->model,
                         .transport = cfg->udp ? "udp" : cfg->unix_path ? "unix" : "tcp",
                         .tls = cfg->tls.cert_file != NULL,
                         .workers = model_capacity(cfg),
                         .listen_fd = listen_fd};
    return metrics_start(cfg->metrics, stats, &info, err, errlen);
}

int server_run(const server_config *cfg)
{
    char err[NET_ERRLEN + 128];
    const server_model *model = server_find_model(cfg->model);
    server_config run_cfg = *cfg;
    server_stats *stats = NULL;
    metrics *metrics = NULL;
    int listen_fd = -1, rc = -1;
    if (model == NULL) {
        snprintf(err, sizeof(err), "unknown model '%s'", cfg->model);
        goto out;
    }
    if (shutdown_install(err, sizeof(err)) < 0 || setup_shared(&run_cfg, err, sizeof(err)) < 0)
        goto out;
    /* Descriptors are the server's capacity: take all the hard limit allows. */
    net_raise_nofile(1L << 20);
    if ((listen_fd = open_listener(cfg, model, err, sizeof(err))) < 0)
        goto out;
    if ((stats = server_stats_create()) == NULL) {
        snprintf(err, sizeof(err), "counters: %s", strerror(errno));
        goto out;
    }
    if (cfg->metrics && (metrics = start_metrics(cfg, listen_fd, stats, err, sizeof(err))) == NULL)
        goto out;
    if (cfg->user && drop_privileges(cfg, err, sizeof(err)) < 0)
        goto out;
    char name[128], line[256];
    net_local_name(listen_fd, name, sizeof(name));
    snprintf(line, sizeof(line), "listening on %s%s", name, cfg->udp ? " (udp)" : "");
    print_line(line);
    if (metrics) {
        metrics_name(metrics, name, sizeof(name));
        snprintf(line, sizeof(line), "metrics on http://%s/metrics", name);
        print_line(line);
    }
    if (!cfg->quiet)
        log_info("model %s: %s", model->name, model->summary);

    server srv = {.cfg = &run_cfg, .listen_fd = listen_fd, .stats = stats, .metrics = metrics};
    rc = model->run(&srv, err, sizeof(err));
    if (rc == 0) {
        unsigned extras = (run_cfg.handler.tls ? SUMMARY_TLS : 0) |
                          (cfg->access.allow_count || cfg->access.deny_count ? SUMMARY_DENIED : 0);
        server_stats_format_summary(stats, extras, line, sizeof(line));
        print_line(line);
    }
out:
    if (rc != 0)
        log_error("%s", err);
    metrics_stop(metrics); /* it reads the listener and the counters: stop it first */
    if (listen_fd >= 0) {
        net_unix_cleanup(listen_fd);
        close(listen_fd);
    }
    server_stats_destroy(stats);
    teardown_shared(&run_cfg);
    return rc == 0 ? 0 : 1;
}
