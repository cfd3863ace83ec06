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
 *
 * Under a steady load the live count also falls to a quarter of its peak now and then (about
 * once a second in the pool's waiting room under a steady TLS load) and is back a moment
 * later: trimming then gives away memory that the next connections take back at once, and
 * cost the pool 0.17x nginx's CPU per TLS handshake (the trim and the page faults after it).
 * So a trimmer made with a settling time trims only when the ask has stood that long, and a
 * surge that comes back (to half its peak) calls the ask off. The thread model trims at once:
 * its memory is in per-thread arenas whose free tops malloc_trim cannot shrink once their
 * threads are gone (glibc trims only the main arena's top), so it must trim while a surge
 * ebbs (three back-to-back rounds of 300 stalled handshakes left 26 MB with a settling time,
 * 19 MB without).
 */
typedef struct mem_trimmer mem_trimmer;

/* The trimmer, its thread not started yet, trimming settle_ns after an ask that stands that
 * long (0: at once); NULL with err when out of memory. */
mem_trimmer *mem_trimmer_create(uint64_t settle_ns, char *err, size_t errlen);

/* How many trims have run. */
unsigned long mem_trimmer_trims(mem_trimmer *t);

/* Stops the thread (a trim under way finishes first) and frees t. NULL is fine. */
void mem_trimmer_destroy(mem_trimmer *t);

/* One surge's watch: kept by a caller that serializes its calls (one thread, or a lock). */
typedef struct mem_surge {
    size_t peak; /* the most live connections since a trim was last asked for */
    int on;      /* a surge began and has not yet ebbed to a few connections */
    size_t asked_at_peak; /* the peak when this surge last asked for a trim; 0: none */
} mem_surge;

/* Surges smaller than this are not worth a trim. */
#define MEM_TRIM_PEAK_MIN 64
#define MEM_TRIM_INTERVAL_NS 200000000ull
/* The settling time of the pool's and the event model's trimmers. */
#define MEM_TRIM_SETTLE_NS 250000000ull

/* Call with the connections live now whenever that count may have peaked or fallen (after
 * each round of work, or as connections end). During a surge (MEM_TRIM_PEAK_MIN live or
 * more), asks t for a trim each time live falls to a quarter of its peak since the last one,
 * down to a quarter of MEM_TRIM_PEAK_MIN, where the surge is over; calls the ask off when
 * live is back to MEM_TRIM_PEAK_MIN and half the peak it fell from. A trim runs once its ask
 * has stood for t's settling time, and not within MEM_TRIM_INTERVAL_NS of the last one, even
 * if nobody calls again. Never waits for the trim. */
void mem_trim_note(mem_trimmer *t, mem_surge *s, size_t live);

#ifdef __cplusplus
}
#endif
#endif
