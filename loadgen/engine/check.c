/* check.c -- judging a reply: its start against a text, or its first line against a POSIX
 * extended regular expression, whatever the segmentation it arrives in; where the reply ends. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int check_init_prefix(check *ck, const char *text, size_t len, char *err, size_t errlen)
{
    memset(ck, 0, sizeof(*ck));
    ck->text = malloc(len + 1);
    if (!ck->text)
        return snprintf(err, errlen, "out of memory"), -1;
    memcpy(ck->text, text, len);
    ck->text[len] = '\0';
    ck->len = len;
    ck->kind = CHECK_PREFIX;
    return 0;
}

int check_init_regex(check *ck, const char *pattern, char *err, size_t errlen)
{
    memset(ck, 0, sizeof(*ck));
    int rc = regcomp(&ck->re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[160];
        regerror(rc, &ck->re, why, sizeof(why));
        snprintf(err, errlen, "'%s': %s", pattern, why);
        return -1;
    }
    ck->text = strdup(pattern);
    if (!ck->text) {
        regfree(&ck->re);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    ck->len = strlen(pattern);
    ck->kind = CHECK_REGEX;
    return 0;
}

void check_free(check *ck)
{
    if (ck->kind == CHECK_REGEX)
        regfree(&ck->re);
    free(ck->text);
    memset(ck, 0, sizeof(*ck));
}

void check_reply_reset(check_reply *r)
{
    r->got = 0;
    r->met = 0;
    r->head_len = 0;
}

static void keep_head(check_reply *r, const char *p, size_t n)
{
    size_t room = CHECK_HEAD - r->head_len;
    size_t k = n < room ? n : room;
    memcpy(r->head + r->head_len, p, k);
    r->head_len = (uint8_t)(r->head_len + k);
}

/* Length of the head's first line without its line end. */
static size_t first_line_len(const check_reply *r)
{
    const char *nl = memchr(r->head, '\n', r->head_len);
    size_t len = nl ? (size_t)(nl - r->head) : r->head_len;
    if (len > 0 && r->head[len - 1] == '\r')
        len--;
    return len;
}

static int regex_matches(const check *ck, const check_reply *r)
{
    char line[CHECK_HEAD + 1];
    size_t len = first_line_len(r);
    memcpy(line, r->head, len);
    line[len] = '\0'; /* a NUL inside the line ends what the regex sees */
    return regexec(&ck->re, line, 0, NULL, 0) == 0;
}

check_verdict check_feed(const check *ck, check_reply *r, const char *p, size_t n,
                         int until_line_end, size_t *used)
{
    size_t from = r->got; /* the reply's offset of p[0] */
    if (ck->kind == CHECK_PREFIX && from < ck->len) {
        size_t k = n < ck->len - from ? n : ck->len - from;
        if (memcmp(p, ck->text + from, k) != 0) {
            keep_head(r, p, n);
            r->got += n;
            *used = n;
            return CHECK_FAIL;
        }
    }
    /* The reply ends at the first '\n' at or after the check's last byte. */
    size_t min_end = ck->kind == CHECK_PREFIX ? ck->len - 1 : 0;
    size_t start = min_end > from ? min_end - from : 0;
    const char *nl = start < n ? memchr(p + start, '\n', n - start) : NULL;
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    keep_head(r, p, take);
    r->got += take;
    *used = take;
    if (!r->met) {
        if (ck->kind == CHECK_PREFIX)
            r->met = r->got >= ck->len;
        else if (ck->kind == CHECK_ANY)
            r->met = r->got > 0;
        else if (nl || r->head_len == CHECK_HEAD) { /* the first line, or all we keep of it */
            if (!regex_matches(ck, r))
                return CHECK_FAIL;
            r->met = 1;
        }
    }
    if (!r->met)
        return CHECK_PENDING;
    if (!until_line_end)
        return ck->kind == CHECK_ANY ? CHECK_PENDING : CHECK_PASS;
    return nl ? CHECK_PASS : CHECK_PENDING;
}

check_verdict check_at_eof(const check *ck, check_reply *r)
{
    if (r->met || (ck->kind == CHECK_REGEX && r->got > 0 && regex_matches(ck, r)))
        return CHECK_PASS;
    return CHECK_FAIL;
}

size_t check_escape(const char *src, size_t len, char *out, size_t outlen)
{
    size_t o = 0, i;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        char esc[5];
        if (ch == '\r' || ch == '\n' || ch == '\t' || ch == '\\')
            snprintf(esc, sizeof(esc), "\\%c", ch == '\r' ? 'r' : ch == '\n' ? 'n' : ch == '\t' ? 't' : '\\');
        else if (ch < 0x20 || ch >= 0x7f)
            snprintf(esc, sizeof(esc), "\\x%02x", ch);
        else
            esc[0] = (char)ch, esc[1] = '\0';
        size_t k = strlen(esc);
        if (o + k + 1 > outlen)
            break;
        memcpy(out + o, esc, k);
        o += k;
    }
    if (outlen)
        out[o] = '\0';
    return i;
}

void check_describe(const check_reply *r, char *out, size_t outlen)
{
    if (r->head_len == 0) {
        snprintf(out, outlen, "(nothing)");
        return;
    }
    const char *nl = memchr(r->head, '\n', r->head_len);
    size_t len = nl ? (size_t)(nl - r->head) + 1 : r->head_len;
    int cut = !nl && r->got > r->head_len;
    if (outlen < 4)
        return (void)(outlen ? out[0] = '\0' : 0);
    size_t fitted = check_escape(r->head, len, out, outlen - 3);
    if (cut || fitted < len) {
        size_t used = strlen(out); /* at most outlen - 4: room is left for the marker */
        snprintf(out + used, outlen - used, "...");
    }
}
