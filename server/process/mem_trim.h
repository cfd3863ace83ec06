/* mem_trim.h -- handing freed memory back to the kernel once a surge of connections is over. */
#ifndef GREETER_MEM_TRIM_H
#define GREETER_MEM_TRIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * After a surge of connections that waited (a TLS flood, stalled handshakes) glibc keeps what
 * they freed for reuse, in every thread's arena, and the process never shrinks: the pool went
 * from 7 MB to 106 MB after 2000 TLS clients and stayed there idle. Once the live connections
 * fall to a quarter of a peak worth the trouble, malloc_trim gives the free pages back. The
 * trim costs up to a few hundred milliseconds (one madvise per free run: 221 ms for 100 MB
 * here), so it runs in a thread of its own, started on the first trim, at most once per
 * MEM_TRIM_INTERVAL_NS; the threads that serve connections only ask for it.
 */
typedef struct mem_trimmer mem_trimmer;

/* The trimmer, its thread not started yet; NULL with err when out of memory. */
mem_trimmer *mem_trimmer_create(char *err, size_t errlen);

/* Stops the thread (a trim under way finishes first) and frees t. NULL is fine. */
void mem_trimmer_destroy(mem_trimmer *t);

/* One surge's watch: kept by a caller that serializes its calls (one thread, or a lock). */
typedef struct mem_surge {
    size_t peak; /* the most live connections since a trim was last asked for */
    int on;      /* a surge began and has not yet ebbed to a few connections */
} mem_surge;

/* Surges smaller than this are not worth a trim. */
#define MEM_TRIM_PEAK_MIN 64
#define MEM_TRIM_INTERVAL_NS 200000000ull

/* Call with the connections live now whenever that count may have peaked or fallen (after
 * each round of work, or as connections end). During a surge (MEM_TRIM_PEAK_MIN live or
 * more), asks t for a trim each time live falls to a quarter of its peak since the last one,
 * down to a quarter of MEM_TRIM_PEAK_MIN, where the surge is over; a trim asked for within
 * the interval of the last one runs when the interval is over, even if nobody calls again.
 * Never waits for the trim. */
void mem_trim_note(mem_trimmer *t, mem_surge *s, size_t live);

#ifdef __cplusplus
}
#endif
#endif
