/* shard.h -- one process's part of a fleet run: --shard I/N shares and --start-at times. */
#ifndef LOADGEN_SHARD_H
#define LOADGEN_SHARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Pure arithmetic, no I/O: config.c parses the options with it and run.c applies it. Shards are
 * numbered 0..count-1 (Kubernetes' JOB_COMPLETION_INDEX counts from 0 too).
 */
typedef struct shard_spec {
    long index; /* I of --shard I/N */
    long count; /* N; 1 when the run is not sharded */
} shard_spec;

/* Parses "I/N" with 0 <= I < N <= SHARD_MAX. 0, or -1 with a message naming --shard. */
#define SHARD_MAX 100000
int shard_parse(const char *text, shard_spec *out, char *err, size_t errlen);

/*
 * Shard index's share of a whole count: total / count, plus one for the first total % count
 * shards, so that the shares of all shards add up to total exactly.
 */
long long shard_share(long long total, const shard_spec *s);

/* Shard index's share of a rate: the rate / count (shares add up to the rate). */
double shard_share_rate(double rate, const shard_spec *s);

/*
 * The slice [*first, *first + *len) of n items (source addresses) that belongs to the shard:
 * contiguous, sized by shard_share, disjoint from every other shard's.
 */
void shard_slice(size_t n, const shard_spec *s, size_t *first, size_t *len);

/* A seed for the shard derived from the run's seed: distinct per shard, repeatable. */
uint64_t shard_seed(uint64_t seed, const shard_spec *s);

/*
 * Parses --start-at: Unix time in seconds ("1764300000", "1764300000.25") or RFC 3339
 * ("2026-11-28T04:00:00Z", "2026-11-28T05:00:00.5+01:00"; a space or 't' may stand for 'T',
 * 'z' for 'Z'). Writes nanoseconds since the Unix epoch. 0, or -1 with a message that shows
 * both accepted forms.
 */
int shard_parse_time(const char *text, int64_t *out_ns, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
