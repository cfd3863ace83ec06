/* main.c -- greeter-server: the command line turned into a server_config, then server_run. */
#include "options.h"
#include "server.h"
#include "udp.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GREETING_FILE_MAX ((size_t)1024 * 1024)
#define ERRLEN 512

static const char *program = "greeter-server";

static int bad_usage(const char *message)
{
    fprintf(stderr, "%s: %s\nTry '%s --help' for the options.\n", program, message, program);
    return 2;
}

/* Reads a whole greeting file into a malloc'd buffer the caller owns. */
static char *read_greeting_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "--greeting-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(GREETING_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, GREETING_FILE_MAX + 1, f) : 0;
    int failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed || n == 0 || n > GREETING_FILE_MAX) {
        snprintf(err, errlen, "--greeting-file %s: %s", path,
                 failed ? "cannot read it" : n == 0 ? "the file is empty" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
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
        server_options_usage(stdout, program, cores);
        goto out_free_options;
    }
    status = 1;
    char *file_greeting = NULL;
    if (opts.greeting_file) {
        file_greeting = read_greeting_file(opts.greeting_file, &cfg->handler.greeting_len, err,
                                           sizeof(err));
        if (file_greeting == NULL) {
            log_error("%s", err);
            goto out_free_options;
        }
        cfg->handler.greeting = file_greeting;
    }
    if (cfg->udp && cfg->handler.greeting_len > UDP_GREETING_MAX)
        log_error("the greeting is %zu bytes: too large for one datagram (at most %d with --udp)",
                  cfg->handler.greeting_len, UDP_GREETING_MAX);
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
