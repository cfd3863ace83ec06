/* schedule.h -- the timetable of connection starts: uniform or Poisson, at a given rate. */
#ifndef LOADGEN_SCHEDULE_H
#define LOADGEN_SCHEDULE_H

#include <stdint.h>

#include "stages.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Open loop (-R) uses one schedule per thread at rate R/threads; the closed loop's ramp-up
 * (--connect-rate) uses a uniform one for first opens. Start k of a uniform schedule is due at
 * first_ns + k / rate exactly (no drift from summing rounded gaps); a Poisson schedule draws
 * exponential gaps with mean 1 / rate from a seeded generator, so a seed repeats a run.
 */
typedef struct schedule {
    uint64_t first_ns;
    double gap_ns;    /* mean gap between starts */
    int poisson;
    uint64_t issued;  /* starts taken so far */
    double next_ns;   /* due time of the next start, from first_ns */
    uint64_t rng;     /* generator state for Poisson gaps */
    /* --stage with -R: the rate follows plan; starts are positions on the plan's cumulative
     * count (this thread's: id, id + threads, ... uniform; exponential steps for Poisson). */
    const stage_plan *plan;
    double count_pos, count_step;
    uint64_t staged_due;
} schedule;

void schedule_init(schedule *s, double rate_per_s, int poisson, uint64_t first_ns, uint64_t seed);

/* A schedule whose rate follows plan (borrowed; it must outlive s) from first_ns: thread id
 * of threads takes its share of the plan's starts. */
void schedule_init_staged(schedule *s, const stage_plan *plan, int threads, int id, int poisson,
                          uint64_t first_ns, uint64_t seed);

/* CLOCK_MONOTONIC nanoseconds at which the next start is due (UINT64_MAX: none will be). */
uint64_t schedule_due(const schedule *s);

/* Takes the next start: the one schedule_due names. */
void schedule_take(schedule *s);

#ifdef __cplusplus
}
#endif
#endif
