/* engine.h -- loadgen's per-thread event loop and the connection state machine it drives. */
#ifndef LOADGEN_ENGINE_H
#define LOADGEN_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "handoff.h"
#include "stats.h"
#include "target.h"
#include "transport.h"

/* A start more than this far behind its due time counts as late (open loop). */
#define ENGINE_LATE_NS 1000000ull
/* After -d ends (or a stop), open connections get min(this, --timeout) to finish. */
#define ENGINE_GRACE_NS 1000000000ull

/*
 * What all threads share. The main thread fills the plain fields before starting workers and
 * does not change them after; the atomics are updated by everyone without a lock.
 */
typedef struct engine_shared {
    const lg_config *cfg;
    const lg_target *target;
    const transport *transport;
    uint64_t start_ns;     /* the run's start (CLOCK_MONOTONIC) */
    uint64_t measure_ns;   /* start + warm-up: connections started before are not counted */
    uint64_t end_ns;       /* measure + duration; UINT64_MAX without -d */
    atomic_int stop;       /* set by the main thread on SIGINT/SIGTERM: stop starting */
    atomic_uint_fast64_t stop_ns; /* when it set stop (the measured window's early end);
                                   * UINT64_MAX until then */
    atomic_long established;       /* connections established but not yet greeted */
    atomic_long peak_established;
    atomic_long in_flight;         /* connections open, all threads */
    atomic_long peak_in_flight;
} engine_shared;

/* Figures a worker publishes while it runs, for the progress line (relaxed atomics). */
typedef struct engine_progress {
    atomic_uint_fast64_t greetings; /* and, with --requests, requests that passed */
    atomic_uint_fast64_t errors;
    atomic_int done;
} engine_progress;

typedef struct engine_worker engine_worker;

/*
 * Creates worker `id` of `threads` with its share of the slots (connections), of -n and of the
 * rate. shared must outlive the worker. Returns NULL with a message in err.
 */
engine_worker *engine_worker_create(engine_shared *shared, int id, int threads, char *err,
                                    size_t errlen);

/* pthread start routine: runs the loop until the run's bounds are met. */
void *engine_worker_main(void *worker);

/* Where the worker posts each interval's figures (its last slice once it is done). The worker
 * keeps ownership; the main thread takes and gives back slices while the worker runs. */
handoff *engine_worker_handoff(engine_worker *w);
/* Over the worker's loop, in nanoseconds: its thread's CPU time, the time it was runnable but
 * waiting for a CPU (0 when the kernel does not report it), and the wall time. */
void engine_worker_times(const engine_worker *w, uint64_t *cpu_ns, uint64_t *cpu_wait_ns,
                         uint64_t *wall_ns);
engine_progress *engine_worker_progress(engine_worker *w);

void engine_worker_destroy(engine_worker *w);

#endif
