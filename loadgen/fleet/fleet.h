/* fleet.h -- the fleet's result: shards' results checked against each other and added exactly. */
#ifndef LOADGEN_FLEET_H
#define LOADGEN_FLEET_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLEET_MERGE_HELP                                                                        \
    "Merges the --json results of one test's shards (loadgen --shard I/N, one per host) into\n" \
    "the fleet's result, in the same JSON format (written to FILE, default stdout), and prints\n" \
    "the fleet report: each shard's line, then the fleet's counts, errors by cause, latency\n"  \
    "percentiles and intervals. Counts and errors are summed; histograms are added bucket by\n" \
    "bucket, so every fleet percentile is the one a single histogram of all the samples would\n" \
    "give; intervals are aligned by wall-clock time. Refused, with the file and the reason:\n"  \
    "different targets, transports, modes, warm-ups, interval lengths, phases or histogram\n"   \
    "layouts; a shard given twice or missing; shards not started together (--start-at);\n"     \
    "truncated or malformed files. --fail-if COND (repeatable; the grammar of loadgen's own)\n" \
    "is judged on the fleet; without it, the conditions the shards ran with are (a shard does\n" \
    "not exit 3 on its own share). Exit 3 when one is not met. --hlog FILE also writes the\n"   \
    "fleet's HdrHistogram interval log (as --hlog does for one run), for HdrHistogram's tools.\n" \
    "With .hgrm files (--hgrm), adds their exact bucket counts into one .hgrm and prints its\n" \
    "percentiles.\n"

/*
 * Checks that the n results (checked by result_parse; paths name them in messages) are shards
 * of one test and merges them: counts and errors summed, histograms added bucket by bucket,
 * interval k of a shard placed in the fleet's interval of the same wall-clock time, and a
 * "shards" array with each shard's own line. Returns a new reference, or NULL with the reason
 * (naming the files) in err.
 */
json_t *fleet_merge(json_t *const *shards, const char *const *paths, int n, char *err,
                    size_t errlen);

/* Prints the fleet report of a merged result: one line per shard, then the fleet's figures. */
void fleet_report(FILE *out, const json_t *fleet);

#ifdef __cplusplus
}
#endif
#endif
