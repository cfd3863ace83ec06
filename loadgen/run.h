/* run.h -- one load-generation run: set up, start the threads, show progress, report. */
#ifndef LOADGEN_RUN_H
#define LOADGEN_RUN_H

#include "config.h"

/* Runs cfg to the end and writes every requested output. Returns the exit status: 0 when at
 * least one greeting succeeded, 1 when none did or the run could not start, 2 for a usage
 * problem found only now (a bad --source). */
int run_loadgen(const lg_config *cfg);

#endif
