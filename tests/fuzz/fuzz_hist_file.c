/*
 * fuzz_hist_file.c -- hist_parse on the .hgrm text `loadgen merge` reads; whatever parses must
 * survive a round trip: written again (hgrm and raw forms) and parsed back, the same histogram.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

static void require(int ok)
{
    if (!ok)
        abort();
}

/* Writes h with the given writer into memory and parses that back into a new histogram,
 * which must equal h in every figure the API shows. */
static void check_round_trip(const hist *h, int raw)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return;
    int rc = raw ? hist_write_raw(h, out) : hist_write_hgrm(h, out, 5, 1000.0);
    require(fclose(out) == 0 && rc == 0);
    hist *back = hist_create();
    char err[HIST_ERRLEN];
    if (back == NULL) {
        free(text);
        return;
    }
    if (hist_parse(text, len, back, err, sizeof(err)) != 0) {
        fprintf(stderr, "round trip failed: %s\n--- written ---\n%s", err, text);
        abort();
    }
    require(hist_count(back) == hist_count(h));
    require(hist_min(back) == hist_min(h) && hist_max(back) == hist_max(h));
    static const double percentiles[] = {0, 1, 25, 50, 90, 99, 99.9, 99.999, 100};
    for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++)
        require(hist_percentile(back, percentiles[i]) == hist_percentile(h, percentiles[i]));
    hist_destroy(back);
    free(text);
}

/* Input: the text of a .hgrm file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exactly sized copy without a NUL: the parser must respect len. */
    char *text = malloc(size > 0 ? size : 1);
    hist *h = hist_create();
    if (text == NULL || h == NULL)
        goto out_free;
    memcpy(text, data, size);
    char err[HIST_ERRLEN];
    err[0] = '\0';
    if (hist_parse(text, size, h, err, sizeof(err)) != 0) {
        require(err[0] != '\0' && hist_count(h) == 0); /* failure leaves h unchanged */
        goto out_free;
    }
    check_round_trip(h, 1);
    check_round_trip(h, 0);
out_free:
    hist_destroy(h);
    free(text);
    return 0;
}
