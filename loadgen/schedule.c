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

void schedule_init(schedule *s, double rate_per_s, int poisson, uint64_t first_ns, uint64_t seed)
{
    s->first_ns = first_ns;
    s->gap_ns = 1e9 / rate_per_s;
    s->poisson = poisson;
    s->issued = 0;
    s->rng = seed;
    s->next_ns = poisson ? exponential_gap(s) : 0.0;
}

uint64_t schedule_due(const schedule *s)
{
    return s->first_ns + (uint64_t)s->next_ns;
}

void schedule_take(schedule *s)
{
    s->issued++;
    if (s->poisson)
        s->next_ns += exponential_gap(s);
    else
        s->next_ns = (double)s->issued * s->gap_ns;
}
