/* stages.h -- --stage DURATION:TARGET: a load level that changes linearly stage by stage. */
#ifndef LOADGEN_STAGES_H
#define LOADGEN_STAGES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STAGES_MAX 32

/* One stage: over duration_us the level moves linearly from the previous stage's target (or
 * the starting level) to target: connections in flight (closed loop) or starts/s (-R). */
typedef struct stage {
    long long duration_us;
    double target;
} stage;

typedef struct stage_plan {
    stage list[STAGES_MAX];
    int n;
    double start_level; /* the level before the first stage: 0, or -R's rate */
} stage_plan;

/* Parses "DURATION:TARGET" (10s:100, 500ms:2000.5) into plan's next stage. 0, or -1 with
 * "--stage 'TEXT': why" in err. */
int stages_add(stage_plan *plan, const char *text, char *err, size_t errlen);

/* Sum of the durations, in microseconds. */
long long stages_total_us(const stage_plan *plan);
/* The highest level the plan reaches. */
double stages_peak(const stage_plan *plan);

/* The level at t_ns after the plan's start (the last target after its end). */
double stages_level(const stage_plan *plan, uint64_t t_ns);

/* The time after the plan's start (ns) by which `count` starts are due when the level is a
 * rate (the integral of the level reaches count); UINT64_MAX when the plan never gets there. */
uint64_t stages_time_of_count(const stage_plan *plan, double count);

/* The next time after t_ns (ns from the plan's start) worth looking at the level again: in
 * 1 ms while it rises, else at the current stage's end (UINT64_MAX after the last). */
uint64_t stages_next_look(const stage_plan *plan, uint64_t t_ns);

#ifdef __cplusplus
}
#endif
#endif
