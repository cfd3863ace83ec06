/* hdr_codec.c -- a histogram as HdrHistogram's compressed V2 encoding in base64 (--hlog, JSON). */
#include "hdr_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define V2_COOKIE 0x1c849313u            /* V2EncodingCookieBase | 0x10 (LEB128 words) */
#define V2_COMPRESSED_COOKIE 0x1c849314u /* V2CompressedEncodingCookieBase | 0x10 */
#define V2_HEADER_LEN 40
#define LEB128_MAX 9 /* a ZigZag LEB128 64-bit word takes at most 9 bytes */
#define DECODED_MAX (V2_HEADER_LEN + 24576 * LEB128_MAX)

/* The 64 digits, then the padding at B64_PAD. */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
#define B64_PAD 64

/* ---- big-endian bytes ---- */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- ZigZag LEB128, as HdrHistogram's ZigZagEncoding: 8 groups of 7 bits, then 8 bits ---- */

static size_t put_zigzag(uint8_t *p, int64_t value)
{
    uint64_t v = ((uint64_t)value << 1) ^ (value < 0 ? UINT64_MAX : 0); /* ZigZag */
    size_t n = 0;
    while (n < LEB128_MAX - 1 && v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads one word at *pos (advanced); -1 when the input ends inside it. */
static int get_zigzag(const uint8_t *p, size_t len, size_t *pos, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < LEB128_MAX; i++) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        if (i == LEB128_MAX - 1) {
            v |= (uint64_t)b << 56;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

/* ---- base64 ---- */

static char *b64_encode(const uint8_t *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t n = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            n |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            n |= in[i + 2];
        *o++ = b64_alphabet[n >> 18 & 63];
        *o++ = b64_alphabet[n >> 12 & 63];
        *o++ = b64_alphabet[i + 1 < len ? n >> 6 & 63 : B64_PAD];
        *o++ = b64_alphabet[i + 2 < len ? n & 63 : B64_PAD];
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *at = c ? strchr(b64_alphabet, c) : NULL;
    return at && at - b64_alphabet < B64_PAD ? (int)(at - b64_alphabet) : -1;
}

/* Decodes into a new buffer (caller frees); NULL when text is not padded base64. */
static uint8_t *b64_decode(const char *text, size_t len, size_t *outlen)
{
    if (len == 0 || len % 4 != 0)
        return NULL;
    size_t pad = text[len - 1] != '=' ? 0 : text[len - 2] == '=' ? 2 : 1;
    uint8_t *out = malloc(len / 4 * 3);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t n = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = i + 4 == len && k >= 4 - pad ? 0 : b64_value(text[i + k]);
            if (v < 0) {
                free(out);
                return NULL;
            }
            n = n << 6 | (uint32_t)v;
        }
        put_be(out + i / 4 * 3, n, 3);
    }
    *outlen = len / 4 * 3 - pad;
    return out;
}

/* ---- encoding ---- */

/* Writes the uncompressed V2 form of h into buf (room for DECODED_MAX); returns its length. */
static size_t encode_plain(const hist *h, uint8_t *buf)
{
    size_t n = V2_HEADER_LEN;
    int limit = hist_count(h) ? hist_index_of(hist_max(h)) + 1 : 0;
    for (int i = 0; i < limit;) {
        uint64_t count = hist_count_at(h, i++);
        int64_t zeros = 0;
        if (count == 0)
            for (zeros = 1; i < limit && hist_count_at(h, i) == 0; i++)
                zeros++;
        n += put_zigzag(buf + n, zeros > 1 ? -zeros : (int64_t)count);
    }
    put_be(buf, V2_COOKIE, 4);
    put_be(buf + 4, n - V2_HEADER_LEN, 4);
    put_be(buf + 8, 0, 4); /* normalizing index offset */
    put_be(buf + 12, HIST_SIGNIFICANT_DIGITS, 4);
    put_be(buf + 16, 1, 8); /* lowest discernible value */
    put_be(buf + 24, HIST_HIGHEST, 8);
    double ratio = 1.0; /* integer to double value conversion ratio */
    uint64_t bits;
    memcpy(&bits, &ratio, sizeof(bits));
    put_be(buf + 32, bits, 8);
    return n;
}

char *hdr_encode(const hist *h)
{
    uint8_t *plain = malloc(DECODED_MAX);
    uLongf zlen = compressBound(DECODED_MAX);
    uint8_t *packed = malloc(8 + zlen);
    char *text = NULL;
    if (plain && packed) {
        size_t n = encode_plain(h, plain);
        if (compress2(packed + 8, &zlen, plain, n, Z_DEFAULT_COMPRESSION) == Z_OK) {
            put_be(packed, V2_COMPRESSED_COOKIE, 4);
            put_be(packed + 4, zlen, 4);
            text = b64_encode(packed, 8 + zlen);
        }
    }
    free(plain);
    free(packed);
    return text;
}

/* ---- decoding ---- */

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "histogram encoding: %s", why);
    return -1;
}

/* Checks the V2 header against our layout; the counts' length, or -1 with err filled. */
static long check_header(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if (len < V2_HEADER_LEN || (get_be(p, 4) & ~0xf0u) != (V2_COOKIE & ~0xf0u))
        return fail(err, errlen, "not an HdrHistogram V2 histogram");
    uint64_t payload = get_be(p + 4, 4);
    if (payload > len - V2_HEADER_LEN)
        return fail(err, errlen, "counts longer than the data");
    uint64_t ratio_bits = get_be(p + 32, 8);
    double ratio;
    memcpy(&ratio, &ratio_bits, sizeof(ratio));
    if (get_be(p + 8, 4) != 0 || get_be(p + 12, 4) != HIST_SIGNIFICANT_DIGITS ||
        get_be(p + 16, 8) != 1 || get_be(p + 24, 8) > HIST_HIGHEST || ratio != 1.0)
        return fail(err, errlen, "a layout other than loadgen's (lowest 1, 3 digits, highest "
                                 "at most 3600000000, no offset)");
    return (long)payload;
}

/* Adds the ZigZag counts in p[0..len) into h (scratch first, so that a failure changes
 * nothing). */
static int add_counts(const uint8_t *p, size_t len, hist *h, char *err, size_t errlen)
{
    hist *scratch = hist_create();
    if (!scratch)
        return fail(err, errlen, "out of memory");
    size_t pos = 0;
    int64_t index = 0, limit = hist_index_len();
    while (pos < len) {
        int64_t word;
        if (get_zigzag(p, len, &pos, &word) != 0 || index >= limit ||
            (word < 0 && -word > limit - index)) {
            hist_destroy(scratch);
            return fail(err, errlen, "counts run past the histogram's end");
        }
        if (word < 0)
            index += -word;
        else
            hist_record_n(scratch, hist_value_at((int)index++), (uint64_t)word);
    }
    hist_merge(h, scratch);
    hist_destroy(scratch);
    return 0;
}

int hdr_decode(const char *text, size_t len, hist *h, char *err, size_t errlen)
{
    size_t packed_len = 0;
    uint8_t *packed = b64_decode(text, len, &packed_len), *plain = NULL;
    int rc = -1;
    if (!packed) {
        fail(err, errlen, "not base64");
        goto out;
    }
    if (packed_len < 8 || get_be(packed, 4) != V2_COMPRESSED_COOKIE ||
        get_be(packed + 4, 4) != packed_len - 8) {
        fail(err, errlen, "not an HdrHistogram compressed V2 histogram");
        goto out;
    }
    uLongf plain_len = DECODED_MAX;
    plain = malloc(DECODED_MAX);
    if (!plain || uncompress(plain, &plain_len, packed + 8, packed_len - 8) != Z_OK) {
        fail(err, errlen, plain ? "corrupt or oversized zlib data" : "out of memory");
        goto out;
    }
    long counts = check_header(plain, plain_len, err, errlen);
    if (counts >= 0)
        rc = add_counts(plain + V2_HEADER_LEN, (size_t)counts, h, err, errlen);
out:
    free(packed);
    free(plain);
    return rc;
}
