/* main.c -- loadgen's entry point: argv to a configuration, then a run, 'merge' or 'plot'. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "merge.h"
#include "plot.h"
#include "run.h"
#include "version.h"

static int usage_error(const char *what)
{
    fprintf(stderr, "loadgen: %s (try 'loadgen --help')\n", what);
    return 2;
}

int main(int argc, char **argv)
{
    lg_config cfg;
    char err[CONFIG_ERRLEN];
    log_set_program("loadgen");
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return merge_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "plot") == 0)
        return plot_main(argc - 1, argv + 1);
    int status = 0;
    if (config_parse(argc, argv, &cfg, err, sizeof(err)) != 0)
        status = usage_error(err);
    else if (cfg.help)
        config_print_help(stdout);
    else if (cfg.version)
        version_print(stdout, "loadgen");
    else
        status = run_loadgen(&cfg);
    config_free(&cfg);
    return status;
}
