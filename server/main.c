/* main.c -- greeter-server: the command line turned into a server_config, then server_run. */
#include "options.h"
#include "server.h"
#include "reload.h"

#include "cpus.h"
#include "log.h"
#include "net.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GREETING_FILE_MAX RELOAD_GREETING_MAX
#define ERRLEN 512

static const char *program = "greeter-server";

static int bad_usage(const char *message)
{
    fprintf(stderr, "%s: %s\nTry '%s --help' for the options.\n", program, message, program);
    return 2;
}

/* Opens --log-file and --access-log-file; 0, or -1 with err. */
static int open_log_files(const server_options *opts, char *err, size_t errlen)
{
    if (opts->log_file && log_open_file(LOG_FILE_MESSAGES, opts->log_file, err, errlen) < 0)
        return -1;
    if (opts->access_log_file && log_open_file(LOG_FILE_ACCESS, opts->access_log_file, err, errlen) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int cores = cpus_usable(); /* what the "per core" defaults count */
    log_set_program(program);
    char err[ERRLEN];
    server_options opts;
    server_config *cfg = &opts.cfg;
    int status = 2;
    if (server_options_parse(argc, argv, cores, &opts, err, sizeof(err)) < 0) {
        bad_usage(err);
        goto out_free_options;
    }
    status = 0;
    if (opts.help) {
        /* The man page is made on a build machine: it states the rule, not that machine's cores. */
        server_options_usage(stdout, program, getenv("GREETER_HELP_FOR_MAN") ? 0 : cores);
        goto out_free_options;
    }
    if (opts.version) {
        version_print(stdout, program);
        goto out_free_options;
    }
    status = 1;
    char *file_greeting = NULL;
    log_use_timestamps(); /* a server's messages are read later: say when, or let the journal */
    if (open_log_files(&opts, err, sizeof(err)) < 0) {
        log_error("%s", err);
        goto out_free_options;
    }
    cfg->argv = argv;
    if (opts.greeting_file) {
        file_greeting = reload_read_greeting(opts.greeting_file, GREETING_FILE_MAX,
                                             &cfg->handler.greeting_len, err, sizeof(err));
        if (file_greeting == NULL) {
            log_error("%s", err);
            goto out_free_options;
        }
        cfg->handler.greeting = file_greeting;
    }
    if (cfg->udp && cfg->handler.greeting_len > NET_UDP_PAYLOAD_MAX)
        log_error("the greeting is %zu bytes: too large for one datagram (at most %d with --udp)",
                  cfg->handler.greeting_len, NET_UDP_PAYLOAD_MAX);
    else {
        if (cfg->quiet)
            log_set_level(LOG_LEVEL_WARN);
        status = server_run(cfg);
    }
    free(file_greeting);
out_free_options:
    server_options_free(&opts);
    return status;
}
