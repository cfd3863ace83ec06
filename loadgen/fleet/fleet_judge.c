/* fleet_judge.c -- --fail-if conditions judged on a merged fleet result. */
#include "fleet_judge.h"

#include <string.h>

#include "result.h"
#include "stats.h"

/* The fleet's counts and histograms as the lg_stats that failif_measure reads. */
static int fleet_stats(const json_t *fleet, lg_stats *s, char *err, size_t errlen)
{
    const json_t *errors = json_object_get(fleet, "errors");
    const json_t *latency = json_object_get(fleet, "latency_us");
    if (lg_stats_init(s) != 0)
        return snprintf(err, errlen, "out of memory"), -1;
    s->starts = (uint64_t)result_int(fleet, "starts");
    s->greetings = (uint64_t)result_int(fleet, "greetings");
    s->unfinished = (uint64_t)result_int(fleet, "unfinished");
    for (int e = 0; e < LG_ERR_COUNT; e++)
        s->errors[e] = (uint64_t)result_int(errors, lg_stats_error_names[e]);
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        const json_t *phase = json_object_get(latency, lg_stats_phase_names[p]);
        if (phase && result_phase_hist(phase, s->phase[p], err, errlen) != 0)
            return -1;
    }
    return 0;
}

int fleet_judge(json_t *fleet, const failif_cond *conds, int n, FILE *out, char *err,
                size_t errlen)
{
    lg_stats s;
    json_t *list = json_array();
    int unmet = 0;
    if (!list || fleet_stats(fleet, &s, err, errlen) != 0) {
        json_decref(list);
        lg_stats_destroy(&s);
        return -1;
    }
    if (n)
        fputc('\n', out);
    for (int i = 0; i < n; i++) {
        char name[64];
        const char *unit;
        const char *phase = lg_stats_phase_names[conds[i].phase];
        if (conds[i].kind == FAILIF_LATENCY &&
            !json_object_get(json_object_get(fleet, "latency_us"), phase)) {
            snprintf(err, errlen, "--fail-if '%s': the fleet has no %s phase", conds[i].text, phase);
            unmet = -1;
            break;
        }
        double value = failif_measure(&conds[i], &s, result_number(fleet, "rate"));
        int pass = failif_holds(&conds[i], value);
        failif_describe(&conds[i], name, sizeof(name), &unit);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f, s:f, s:b}", "condition",
                                              conds[i].text, "metric", name, "unit", unit,
                                              "measured", value, "limit", conds[i].limit, "pass",
                                              pass));
        fprintf(out, "fail-if  %-24s %s = %.6g %s: %s (fleet)\n", conds[i].text, name, value, unit,
                pass ? "pass" : "FAILED");
        unmet += !pass;
    }
    json_object_set_new(fleet, "fail_if", list);
    lg_stats_destroy(&s);
    return unmet;
}

int fleet_conditions(json_t *const *shards, const char *const *paths, int n, failif_cond *conds,
                     char *err, size_t errlen)
{
    const json_t *want = json_object_get(shards[0], "fail_if"), *item;
    size_t i;
    /* The measured values differ by shard; the conditions must not. */
    for (int k = 1; k < n; k++) {
        const json_t *have = json_object_get(shards[k], "fail_if");
        int same = json_array_size(have) == json_array_size(want);
        json_array_foreach(have, i, item)
            same &= json_equal(json_object_get(item, "condition"),
                               json_object_get(json_array_get(want, i), "condition"));
        if (!same)
            return snprintf(err, errlen, "%s: its --fail-if conditions differ from %s's", paths[k],
                            paths[0]), -1;
    }
    json_array_foreach(want, i, item) {
        const char *text = json_string_value(json_object_get(item, "condition"));
        if (i == FAILIF_MAX || !text)
            return snprintf(err, errlen, "%s: a fail_if entry without a condition", paths[0]), -1;
        if (failif_parse(text, &conds[i], err, errlen) != 0)
            return -1;
    }
    return (int)json_array_size(want);
}
