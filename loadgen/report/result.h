/* result.h -- a loadgen result (--json, docs/loadgen-json.md) read back and checked. */
#ifndef LOADGEN_RESULT_H
#define LOADGEN_RESULT_H

#include <jansson.h>
#include <stddef.h>

#include "hist.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RESULT_ERRLEN 512
#define RESULT_MAX_FILE (256u << 20) /* an hour of 1 s intervals is a few MB: far below */

/*
 * Parses len bytes of text with jansson and checks everything merge and plot rely on before
 * either trusts a field: the schema, the types and signs of the counts, a shard within range,
 * the histogram layout (ours, so buckets add), every phase's hist decodable with a count that
 * matches, and intervals numbered in order. Returns a new reference the caller releases with
 * json_decref, or NULL with the reason in err ("latency_us.greeting.hist: bad base64", "line
 * 3, column 7: end of file expected"); the caller adds the file name.
 */
json_t *result_parse(const char *text, size_t len, char *err, size_t errlen);

/* Reads a whole file (at most RESULT_MAX_FILE) into a new buffer the caller frees; NULL with
 * the reason in err. */
char *result_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Reads the file at path (at most RESULT_MAX_FILE) and parses it as result_parse does. */
json_t *result_load(const char *path, char *err, size_t errlen);

/* Adds the counts of a checked phase object's "hist" into h. 0, or -1 with err. */
int result_phase_hist(const json_t *phase, hist *h, char *err, size_t errlen);

/* A checked result's integer field (0 when absent) and number field (integer or real). */
long long result_int(const json_t *o, const char *key);
double result_number(const json_t *o, const char *key);

#ifdef __cplusplus
}
#endif
#endif
