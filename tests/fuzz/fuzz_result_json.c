/*
 * fuzz_result_json.c -- result_parse on the JSON `loadgen merge` and `loadgen plot` read; what it
 * accepts must merge (as a fleet of one), the fleet's result must parse back with the same
 * counts, and both must draw without a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "plot.h"
#include "result.h"

static void require(int ok, const char *what, const char *err)
{
    if (!ok) {
        fprintf(stderr, "%s: %s\n", what, err);
        abort();
    }
}

/* Draws the result into memory; the picture must hold something. */
static void draw(const json_t *result, int html)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return;
    int rc = plot_write(out, result, html);
    require(fclose(out) == 0 && (rc != 0 || len > 0), "plot wrote nothing", "");
    free(text);
}

/* Input: the text of a result file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[RESULT_ERRLEN] = "";
    const char *path = "fuzz.json";
    json_t *result = result_parse((const char *)data, size, err, sizeof(err));
    if (result == NULL) {
        require(err[0] != '\0', "refused without a reason", "");
        return 0;
    }
    draw(result, 0);
    json_t *fleet = fleet_merge(&result, &path, 1, err, sizeof(err));
    if (fleet != NULL) {
        char *text = json_dumps(fleet, JSON_COMPACT);
        json_t *back = text ? result_parse(text, strlen(text), err, sizeof(err)) : NULL;
        require(text == NULL || back != NULL, "the merged result does not parse back", err);
        if (back != NULL) {
            require(result_int(back, "greetings") == result_int(result, "greetings") &&
                        result_int(back, "starts") == result_int(result, "starts"),
                    "the merge of one result changed its counts", "");
            draw(back, 1);
        }
        json_decref(back);
        free(text);
        json_decref(fleet);
    }
    json_decref(result);
    return 0;
}
