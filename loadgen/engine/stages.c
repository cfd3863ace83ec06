/* stages.c -- --stage DURATION:TARGET: a load level that changes linearly stage by stage. */
#include "stages.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define LOOK_WHILE_RISING_NS 1000000ull

int stages_add(stage_plan *plan, const char *text, char *err, size_t errlen)
{
    char duration[64], why[256];
    const char *colon = strrchr(text, ':');
    if (plan->n == STAGES_MAX)
        return snprintf(err, errlen, "--stage: at most %d stages", STAGES_MAX), -1;
    if (!colon || (size_t)(colon - text) >= sizeof(duration))
        return snprintf(err, errlen, "--stage '%s': expected DURATION:TARGET, e.g. 30s:1000",
                        text), -1;
    memcpy(duration, text, (size_t)(colon - text));
    duration[colon - text] = '\0';
    stage *s = &plan->list[plan->n];
    if (parse_duration_us("--stage", duration, "s", &s->duration_us, why, sizeof(why)) != 0 ||
        s->duration_us < 1000)
        return snprintf(err, errlen, "--stage '%s': '%s' is not a duration of 1ms or more (a "
                        "number with us, ms, s or m)", text, duration), -1;
    char *end;
    s->target = strtod(colon + 1, &end);
    if (end == colon + 1 || *end || !isfinite(s->target) || s->target < 0 || s->target > 1e7)
        return snprintf(err, errlen, "--stage '%s': '%s' is not a target (a number from 0 to "
                        "10000000)", text, colon + 1), -1;
    plan->n++;
    return 0;
}

long long stages_total_us(const stage_plan *plan)
{
    long long total = 0;
    for (int i = 0; i < plan->n; i++)
        total += plan->list[i].duration_us;
    return total;
}

double stages_peak(const stage_plan *plan)
{
    double peak = plan->start_level;
    for (int i = 0; i < plan->n; i++)
        peak = fmax(peak, plan->list[i].target);
    return peak;
}

double stages_level(const stage_plan *plan, uint64_t t_ns)
{
    double from = plan->start_level, t = (double)t_ns / 1e3; /* us */
    for (int i = 0; i < plan->n; i++) {
        const stage *s = &plan->list[i];
        if (t < (double)s->duration_us)
            return from + (s->target - from) * t / (double)s->duration_us;
        t -= (double)s->duration_us;
        from = s->target;
    }
    return from;
}

/* Within one stage from level a to b over d seconds: the time (s) at which the integral of
 * the level reaches c (0 <= c <= its whole area). Solves a t + (b - a) t^2 / 2d = c in the
 * form that stays exact when a = b. */
static double time_in_stage(double a, double b, double d, double c)
{
    double k = (b - a) / d;
    double root = sqrt(fmax(a * a + 2 * k * c, 0));
    return c <= 0 ? 0 : 2 * c / (a + root);
}

uint64_t stages_time_of_count(const stage_plan *plan, double count)
{
    double from = plan->start_level, elapsed_s = 0;
    for (int i = 0; i < plan->n; i++) {
        const stage *s = &plan->list[i];
        double d = (double)s->duration_us / 1e6, area = (from + s->target) / 2 * d;
        if (count <= area && area > 0)
            return (uint64_t)((elapsed_s + time_in_stage(from, s->target, d, count)) * 1e9);
        count -= area;
        elapsed_s += d;
        from = s->target;
    }
    return UINT64_MAX;
}

uint64_t stages_next_look(const stage_plan *plan, uint64_t t_ns)
{
    uint64_t stage_end = 0;
    double from = plan->start_level;
    for (int i = 0; i < plan->n; i++) {
        stage_end += (uint64_t)plan->list[i].duration_us * 1000u;
        if (t_ns < stage_end)
            return plan->list[i].target > from ? t_ns + LOOK_WHILE_RISING_NS : stage_end;
        from = plan->list[i].target;
    }
    return UINT64_MAX;
}
