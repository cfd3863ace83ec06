/* server.c -- listen, print where, run the chosen model, print the summary. */
#include "server.h"

#include "control.h"
#include "listeners.h"
#include "loop_listeners.h"
#include "log.h"
#include "net.h"
#include "privdrop.h"
#include "reload.h"
#include "shutdown.h"
#include "amplification.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const server_model models[] = {
    {"pool", "accept thread -> bounded queue -> worker threads (default)", model_pool_run,
     MODEL_OPT_WORKERS | MODEL_OPT_QUEUE | MODEL_OPT_OVERLOAD | MODEL_OPT_UDP | MODEL_OPT_HAND_OFF, 0},
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
    {MODEL_OPT_HAND_OFF, "--always-hand-off"},
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

/* Builds what every process shares (the reloadable generation of greeting and TLS context,
 * admission state) into run_cfg's handler, before any fork. 0, or -1 with err. */
static int setup_shared(server_config *run_cfg, const listener_set *set, char *err, size_t errlen)
{
    const admission_config *a = &run_cfg->access;
    int tls = 0, udp = 0;
    for (int i = 0; i < set->count; i++) {
        tls |= set->items[i].tls;
        udp |= set->items[i].udp;
    }
    if (tls || run_cfg->greeting_file) {
        size_t max = udp ? NET_UDP_PAYLOAD_MAX : RELOAD_GREETING_MAX;
        run_cfg->handler.live = reload_create(run_cfg->handler.greeting, run_cfg->handler.greeting_len,
                                              NULL, run_cfg->greeting_file,
                                              tls ? &run_cfg->tls : NULL, max, err, errlen);
        if (run_cfg->handler.live == NULL)
            return -1;
        /* Only says "TLS here": each connection takes the current generation's context. */
        run_cfg->handler.tls = run_cfg->handler.live->newest->tls;
    }
    if (udp)
        amplification_warn_unanswerable(run_cfg->udp_amplification, run_cfg->udp_max,
                                        run_cfg->handler.greeting_len);
    if (a->allow_count || a->deny_count || a->max_conns || a->max_per_ip || a->rate_per_ip > 0) {
        run_cfg->handler.admission = admission_create(a, err, errlen);
        if (run_cfg->handler.admission == NULL)
            return -1;
    }
    return 0;
}

static int any_udp(const listener_set *set)
{
    for (int i = 0; i < set->count; i++)
        if (set->items[i].udp)
            return 1;
    return 0;
}

static void teardown_shared(server_config *run_cfg)
{
    reload_destroy(run_cfg->handler.live); /* with the TLS contexts */
    admission_destroy(run_cfg->handler.admission);
}

/* After binding: the UNIX socket file goes to the new user (so it can remove it at exit),
 * then the process becomes that user. A successor of an upgrade already is that user. */
static int drop_privileges(const server_config *cfg, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    if (privdrop_lookup(cfg->user, cfg->group, &uid, &gid, err, errlen) < 0)
        return -1;
    if (getuid() == uid && geteuid() == uid && getgid() == gid && uid != 0)
        return 0;
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

/* Connections the configuration lets this process hold at once, besides the backlog: exactly
 * --max-conns when set, since it counts every descriptor held for a client (the pool's
 * lingering closes give their places up rather than exceed it, waiting_room_reclaim). */
static long connections_held(const server_config *cfg)
{
    if (cfg->access.max_conns)
        return cfg->access.max_conns;
    if (strcmp(cfg->model, "pool") == 0)
        return (long)cfg->workers + cfg->queue_capacity;
    if (strcmp(cfg->model, "thread") == 0)
        return cfg->max_threads;
    return 0;
}

/* Start-up warnings about kernel limits that would quietly cut what was asked for. */
static void warn_about_limits(const server_config *cfg, const listener_set *set, long nofile)
{
    const server_model *model = server_find_model(cfg->model);
    int backlog = net_effective_backlog(cfg->backlog);
    int streams = 0, queues = 0; /* accept queues: the event model has one per loop over TCP */
    int sockets = 0;             /* what an upgrade hands over */
    for (int i = 0; i < set->count; i++) {
        const server_listener *l = &set->items[i];
        int per_listener = model->reuseport && !l->is_unix ? cfg->workers : 1;
        streams += !l->udp;
        queues += l->udp ? 0 : per_listener;
        sockets += per_listener;
    }
    if (set->origin == LISTENERS_OPENED && streams && backlog < cfg->backlog)
        log_warn("--backlog %d is cut to %d by net.core.somaxconn: raise it "
                 "(sysctl -w net.core.somaxconn=%d) or lower --backlog",
                 cfg->backlog, backlog, cfg->backlog);
    if (sockets > SYSTEMD_LISTEN_MAX)
        log_warn("%d listening sockets (one per event loop and listener) are more than an "
                 "upgrade can hand over (%d): SIGUSR2 will be refused; lower -w to upgrade",
                 sockets, SYSTEMD_LISTEN_MAX);
    long need = connections_held(cfg) + (long)queues * backlog + 64;
    if (nofile > 0 && nofile < need)
        log_warn("the open-file limit (%ld) is below the %ld descriptors that -w, -q, "
                 "--max-conns and the backlog can need: raise it (ulimit -n, or LimitNOFILE= "
                 "in the unit)", nofile, need);
}

/* One model instance per listener; all but the last run in their own threads. */
typedef struct instance {
    server srv;
    server_config cfg;
    const server_model *model;
    pthread_t thread;
    int started;
    int rc;
    char err[NET_ERRLEN + 128];
} instance;

static void *instance_main(void *arg)
{
    instance *in = arg;
    in->rc = in->model->run(&in->srv, in->err, sizeof(in->err));
    if (in->rc != 0)
        shutdown_request(); /* one listener failing stops them all: refuse to half-serve */
    return NULL;
}

/* Runs the model on every listener until shutdown; 0, or -1 with the first error in err. */
static int run_instances(const server_config *run_cfg, const server_model *model,
                         const listener_set *set, server_stats *stats, metrics *metrics,
                         char *err, size_t errlen)
{
    instance *ins = calloc((size_t)set->count, sizeof(*ins));
    if (ins == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < set->count; i++) {
        instance *in = &ins[i];
        const server_listener *l = &set->items[i];
        in->cfg = *run_cfg;
        in->cfg.udp = l->udp;
        if (!l->tls)
            in->cfg.handler.tls = NULL;
        in->model = model;
        in->srv = (server){.cfg = &in->cfg, .listen_fd = l->fd, .loop_fds = l->loop_fds,
                           .loop_count = l->loop_count, .stats = stats,
                           .metrics = i == 0 ? metrics : NULL}; /* the queue of the first */
        if (i == set->count - 1)
            instance_main(in); /* the last listener runs in the calling thread */
        else if ((in->rc = shutdown_thread_create(&in->thread, NULL, instance_main, in)) == 0) {
            in->started = 1;
            pthread_setname_np(in->thread, "listener");
        } else {
            snprintf(in->err, sizeof(in->err), "thread for listener %d: %s", i, strerror(in->rc));
            in->rc = -1;
            shutdown_request();
            break;
        }
    }
    int rc = 0;
    for (int i = 0; i < set->count; i++) {
        if (ins[i].started)
            pthread_join(ins[i].thread, NULL);
        if (ins[i].rc != 0 && rc == 0) {
            snprintf(err, errlen, "%s", ins[i].err);
            rc = -1;
        }
    }
    free(ins);
    return rc;
}

static void print_listening(const listener_set *set, int quiet)
{
    for (int i = 0; i < set->count; i++) {
        const server_listener *l = &set->items[i];
        char name[128], line[256];
        net_local_name(l->fd, name, sizeof(name));
        snprintf(line, sizeof(line), "listening on %s%s%s", name, l->udp ? " (udp)" : "",
                 l->tls && set->count > 1 ? " (tls)" : "");
        print_line(line);
        if (set->origin != LISTENERS_OPENED && !quiet)
            log_info("descriptor %d ('%s') inherited from %s", l->fd, l->name,
                     set->origin == LISTENERS_SYSTEMD ? "the service manager" : "the previous process");
    }
}

/* The program SIGUSR2 starts: --upgrade-binary, or the executable running now. */
static void upgrade_binary(const server_config *cfg, char *buf, size_t len)
{
    ssize_t n = cfg->upgrade_binary ? -1 : readlink("/proc/self/exe", buf, len - 1);
    if (n > 0)
        buf[n] = '\0';
    else
        snprintf(buf, len, "%s", cfg->upgrade_binary ? cfg->upgrade_binary : "/proc/self/exe");
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
static metrics *start_metrics(const server_config *cfg, const server_listener *l,
                              server_stats *stats, char *err, size_t errlen)
{
    metrics_info info = {.model = cfg->model,
                         .transport = l->udp ? "udp" : l->is_unix ? "unix" : "tcp",
                         .tls = l->tls,
                         .workers = model_capacity(cfg),
                         .listen_fd = l->fd,
                         .loop_fds = l->loop_fds,
                         .loop_count = l->loop_count};
    return metrics_start(cfg->metrics, stats, &info, err, errlen);
}

/* What the listeners need to know of the configuration and of the model that serves them. */
static listeners_spec listeners_spec_of(const server_config *cfg, const server_model *model)
{
    return (listeners_spec){
        .host = cfg->host, .port = cfg->port, .unix_path = cfg->unix_path,
        .unix_mode = cfg->unix_mode, .backlog = cfg->backlog, .ipv6_only = cfg->ipv6_only,
        .udp = cfg->udp, .address_given = cfg->address_given, .tls = cfg->tls.cert_file != NULL,
        .caps = cfg->access.max_conns || cfg->access.max_per_ip,
        .proxy_protocol = cfg->handler.proxy.enabled, .workers = cfg->workers,
        .model = model->name, .model_reuseport = model->reuseport,
        .model_udp = (model->accepts & MODEL_OPT_UDP) != 0,
        .model_one_listener = model->run == model_fork_run || model->run == model_prefork_run};
}

int server_run(const server_config *cfg)
{
    char err[NET_ERRLEN + 128], binary[4096];
    const server_model *model = server_find_model(cfg->model);
    server_config run_cfg = *cfg;
    server_stats *stats = NULL;
    listener_set set = {0};
    metrics *metrics = NULL;
    control *ctl = NULL;
    int rc = -1, upgraded = 0;
    control_block_signals(); /* before any thread: they wait for the control thread */
    if (model == NULL) {
        snprintf(err, sizeof(err), "unknown model '%s'", cfg->model);
        goto out;
    }
    if (shutdown_install(err, sizeof(err)) < 0)
        goto out;
    /* Before the first thread (--metrics starts one): every thread inherits the seal. */
    if (cfg->user && privdrop_seal(err, sizeof(err)) < 0)
        goto out;
    /* Descriptors are the server's capacity: take all the hard limit allows. */
    long nofile = net_raise_nofile(1L << 20);
    listeners_spec spec = listeners_spec_of(cfg, model);
    if (listeners_open(&set, &spec, err, sizeof(err)) < 0 ||
        setup_shared(&run_cfg, &set, err, sizeof(err)) < 0)
        goto out;
    warn_about_limits(cfg, &set, nofile);
    if ((stats = server_stats_create()) == NULL) {
        snprintf(err, sizeof(err), "counters: %s", strerror(errno));
        goto out;
    }
    /* After the TLS files are loaded, yet before --metrics (which shows their queues) and
     * dropping root (the kernel admits one user's sockets to a SO_REUSEPORT group): a loop
     * listener takes its share of new clients at once, so a successor (an upgrade) that failed
     * after opening it would reset them. */
    if (model->reuseport && loop_listeners_open(&set, cfg->workers, cfg->backlog, err, sizeof(err)) < 0)
        goto out;
    /* Bound before dropping root, like the listener; with SO_REUSEPORT, so that an upgrade's
     * successor binds it beside us. */
    if (cfg->metrics && (metrics = start_metrics(cfg, &set.items[0], stats, err, sizeof(err))) == NULL)
        goto out;
    if (cfg->user && drop_privileges(cfg, err, sizeof(err)) < 0)
        goto out;
    print_listening(&set, cfg->quiet);
    if (metrics) {
        char name[128], line[256];
        metrics_name(metrics, name, sizeof(name));
        snprintf(line, sizeof(line), "metrics on http://%s/metrics", name);
        print_line(line);
    }
    if (!cfg->quiet && !cfg->udp)
        log_info("model %s: %s", model->name, model->summary);
    else if (!cfg->quiet) /* datagrams have no accept step: see udp.c */
        log_info("model %s over UDP: threads receive datagrams and answer each (no accept thread, no queue)",
                 model->name);
    upgrade_binary(cfg, binary, sizeof(binary));
    control_config cc = {.stats = stats, .live = run_cfg.handler.live, .listeners = &set,
                         .upgrade_binary = binary, .argv = cfg->argv};
    if ((ctl = control_start(&cc, err, sizeof(err))) == NULL)
        goto out;
    rc = run_instances(&run_cfg, model, &set, stats, metrics, err, sizeof(err));
    upgraded = control_stop(ctl);
    if (rc == 0) {
        char line[256];
        int tls = run_cfg.handler.tls != NULL;
        unsigned extras = (tls ? SUMMARY_TLS : 0) |
                          (cfg->access.allow_count || cfg->access.deny_count ? SUMMARY_DENIED : 0) |
                          (cfg->handler.proxy.enabled ? SUMMARY_PROXY : 0) |
                          (cfg->access.rate_per_ip > 0 ? SUMMARY_RATE : 0) |
                          (any_udp(&set) ? SUMMARY_UDP : 0);
        server_stats_format_summary(stats, extras, line, sizeof(line));
        print_line(line);
    }
out:
    if (rc != 0)
        log_error("%s", err);
    metrics_stop(metrics); /* it reads the listener and the counters: stop it first */
    listeners_close(&set, upgraded);
    server_stats_destroy(stats);
    teardown_shared(&run_cfg);
    return rc == 0 ? 0 : 1;
}
