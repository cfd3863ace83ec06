/* hdr_codec.h -- a histogram as HdrHistogram's compressed V2 encoding in base64 (--hlog, JSON). */
#ifndef LOADGEN_HDR_CODEC_H
#define LOADGEN_HDR_CODEC_H

#include <stddef.h>

#include "hist.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The encoding HdrHistogram's encodeIntoCompressedByteBuffer writes and its log readers read:
 * base64 of [cookie 0x1c849314, zlib length, zlib(header + counts)], the header giving the
 * layout (lowest 1, highest HIST_HIGHEST, 3 digits, normalizing offset 0, ratio 1.0) and the
 * counts up to the largest value's index as ZigZag LEB128, runs of zeros as one negative
 * number. Every integer big-endian.
 */

/* Returns h encoded as a NUL-terminated base64 string the caller frees; NULL on ENOMEM. */
char *hdr_encode(const hist *h);

/*
 * Decodes len bytes of text and adds the counts into h (exact: the buckets are the same).
 * Returns 0, or -1 with the reason in err for bad base64, a bad cookie, a corrupt zlib
 * stream, or a histogram whose layout is not ours; h is left unchanged then.
 */
int hdr_decode(const char *text, size_t len, hist *h, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
