/* fuzz_hdr_decode.c -- hdr_decode on any text: a histogram from a hostile result file is
 * refused or decoded, never a crash, and what decodes encodes back to the same buckets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hdr_codec.h"
#include "hist.h"

static void require(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hist *h = hist_create(), *back = hist_create();
    char err[256];
    require(h && back);
    hist_record(h, 7); /* a refused input must leave this alone */
    int rc = hdr_decode((const char *)data, size, h, err, sizeof(err));
    if (rc != 0) {
        require(err[0] != '\0' && hist_count(h) == 1);
    } else {
        char *text = hdr_encode(h);
        require(text != NULL);
        require(hdr_decode(text, strlen(text), back, err, sizeof(err)) == 0);
        for (int i = 0; i < hist_index_len(); i++)
            require(hist_count_at(h, i) == hist_count_at(back, i));
        free(text);
    }
    hist_destroy(h);
    hist_destroy(back);
    return 0;
}
