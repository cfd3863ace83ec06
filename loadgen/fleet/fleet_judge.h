/* fleet_judge.h -- --fail-if conditions judged on a merged fleet result. */
#ifndef LOADGEN_FLEET_JUDGE_H
#define LOADGEN_FLEET_JUDGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "failif.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Judges conds (n of them) on the fleet: the measured values come from its summed counts and
 * merged histograms, exactly as one loadgen judges its own run. Replaces fleet's "fail_if"
 * array with the verdicts and prints one line per condition to out. Returns how many did not
 * hold, or -1 with err (out of memory, a phase the fleet lacks).
 */
int fleet_judge(json_t *fleet, const failif_cond *conds, int n, FILE *out, char *err,
                size_t errlen);

/*
 * The conditions the shards ran with (their "fail_if" arrays' "condition" texts), which every
 * shard must share. Returns how many were parsed into conds (at most FAILIF_MAX), or -1 with
 * err naming the file that differs or holds a bad one.
 */
int fleet_conditions(json_t *const *shards, const char *const *paths, int n, failif_cond *conds,
                     char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
