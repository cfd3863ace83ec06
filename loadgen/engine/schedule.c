/* schedule.c -- the timetable of connection starts: uniform or Poisson, at a given rate. */
#include "schedule.h"

#include <math.h>

/* splitmix64: small, fast and good enough for arrival times. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* An exponential gap with the schedule's mean: -ln(U) * mean, U uniform in (0, 1]. */
static double exponential_gap(schedule *s)
{
    double u = (double)((next_random(&s->rng) >> 11) + 1) / 9007199254740992.0;
    return -log(u) * s->gap_ns;
}

/* The due time of the staged schedule's current count position. */
static uint64_t staged_due(const schedule *s)
{
    uint64_t t = stages_time_of_count(s->plan, s->count_pos);
    return t == UINT64_MAX ? UINT64_MAX : s->first_ns + t;
}

void schedule_init_staged(schedule *s, const stage_plan *plan, int threads, int id, int poisson,
                          uint64_t first_ns, uint64_t seed)
{
    schedule_init(s, 1.0, poisson, first_ns, seed);
    s->plan = plan;
    s->gap_ns = (double)threads; /* in count space: the mean step between this thread's starts */
    s->count_step = (double)threads;
    s->count_pos = poisson ? exponential_gap(s) : (double)id;
    s->staged_due = staged_due(s);
}

void schedule_init(schedule *s, double rate_per_s, int poisson, uint64_t first_ns, uint64_t seed)
{
    s->plan = NULL;
    s->first_ns = first_ns;
    s->gap_ns = 1e9 / rate_per_s;
    s->poisson = poisson;
    s->issued = 0;
    s->rng = seed;
    s->next_ns = poisson ? exponential_gap(s) : 0.0;
}

uint64_t schedule_due(const schedule *s)
{
    return s->plan ? s->staged_due : s->first_ns + (uint64_t)s->next_ns;
}

void schedule_take(schedule *s)
{
    s->issued++;
    if (s->plan) {
        s->count_pos += s->poisson ? exponential_gap(s) : s->count_step;
        s->staged_due = staged_due(s);
        return;
    }
    if (s->poisson)
        s->next_ns += exponential_gap(s);
    else
        s->next_ns = (double)s->issued * s->gap_ns;
}
