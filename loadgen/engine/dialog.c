/* dialog.c -- what one connection says and expects, in order: --dialog FILE's steps, or the
 * --send/--expect/--expect-re options as the same steps; and which of them --requests repeats. */
#include "dialog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int dialog_unescape(const char *text, char **out, size_t *outlen, char *err, size_t errlen)
{
    char *buf = malloc(strlen(text) + 1);
    size_t n = 0;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if (*p != '\\') {
            buf[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case '0': buf[n++] = '\0'; break;
        case '\\': buf[n++] = '\\'; break;
        case 'x':
            if (hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
                buf[n++] = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
                p += 2;
                break;
            }
            /* fall through */
        default:
            snprintf(err, errlen, "bad escape in '%s' (use \\n \\r \\t \\0 \\\\ or \\xHH)", text);
            free(buf);
            return -1;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

/* Appends a zeroed step; NULL when the table is full (err says so) or out of memory. */
static dialog_step *add_step(lg_dialog *d, dialog_step_kind kind, int line, char *err,
                             size_t errlen)
{
    if (d->nsteps == DIALOG_MAX_STEPS) {
        snprintf(err, errlen, "more than %d steps", DIALOG_MAX_STEPS);
        return NULL;
    }
    if (!d->step && !(d->step = calloc(DIALOG_MAX_STEPS, sizeof(*d->step)))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    dialog_step *s = &d->step[d->nsteps++];
    s->kind = kind;
    s->line = line;
    if (kind == DIALOG_EXPECT)
        s->expect_index = d->nexpects++;
    else
        d->repeat_from = d->nsteps - 1;
    return s;
}

/* One step from its keyword and its (escaped) text; 0, or -1 with err (no file:line). */
static int add_parsed(lg_dialog *d, const char *keyword, const char *text, int line, char *err,
                      size_t errlen)
{
    int is_send = strcmp(keyword, "send") == 0, is_re = strcmp(keyword, "expect-re") == 0;
    if (!is_send && !is_re && strcmp(keyword, "expect") != 0) {
        snprintf(err, errlen, "unknown step '%s' (use send TEXT, expect TEXT or expect-re REGEX)",
                 keyword);
        return -1;
    }
    if (!*text) {
        snprintf(err, errlen, "'%s' needs a text after it", keyword);
        return -1;
    }
    dialog_step *s = add_step(d, is_send ? DIALOG_SEND : DIALOG_EXPECT, line, err, errlen);
    if (!s)
        return -1;
    if (is_re)
        return check_init_regex(&s->ck, text, err, errlen);
    char *bytes;
    size_t len;
    if (dialog_unescape(text, &bytes, &len, err, errlen) != 0)
        return -1;
    if (is_send) {
        s->data = bytes;
        s->len = len;
        return 0;
    }
    int rc = len ? check_init_prefix(&s->ck, bytes, len, err, errlen)
                 : (snprintf(err, errlen, "'expect' needs a text after it"), -1);
    free(bytes);
    return rc;
}

/* Parses one line (its line end removed); blank and comment lines add nothing. */
static int parse_line(lg_dialog *d, char *text, int line, char *err, size_t errlen)
{
    text += strspn(text, " \t");
    if (!*text || *text == '#')
        return 0;
    char *keyword = text;
    size_t klen = strcspn(text, " \t");
    char *rest = text + klen;
    if (*rest) {
        *rest++ = '\0';
        rest += strspn(rest, " \t");
    }
    return add_parsed(d, keyword, rest, line, err, errlen);
}

int dialog_load(lg_dialog *d, const char *path, int max_expects, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->from_file = 1;
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char text[4096], why[512];
    int line = 0, rc = 0;
    while (rc == 0 && fgets(text, sizeof(text), f)) {
        line++;
        size_t len = strlen(text);
        if (len == sizeof(text) - 1 && text[len - 1] != '\n') {
            snprintf(why, sizeof(why), "line longer than %zu bytes", sizeof(text) - 2);
            rc = -1;
            break;
        }
        text[strcspn(text, "\r\n")] = '\0';
        rc = parse_line(d, text, line, why, sizeof(why));
    }
    /* fgets says NULL for an error as for the end: a directory must not pass for empty. */
    int read_errno = rc == 0 && ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(read_errno));
        return -1;
    }
    if (rc == 0 && d->nexpects == 0) {
        snprintf(err, errlen, "%s: no expect step (a dialog needs at least one)", path);
        return -1;
    }
    if (rc == 0 && d->nexpects > max_expects) {
        snprintf(err, errlen, "%s: %d expect steps, at most %d", path, d->nexpects, max_expects);
        return -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "%s:%d: %s", path, line, why);
    return rc;
}

int dialog_from_options(lg_dialog *d, const char *send, size_t send_len, const char *expect_text,
                        size_t expect_len, const char *expect_re, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    dialog_step *s;
    if (send) {
        if (!(s = add_step(d, DIALOG_SEND, 0, err, errlen)) || !(s->data = malloc(send_len)))
            return snprintf(err, errlen, "out of memory"), -1;
        memcpy(s->data, send, send_len);
        s->len = send_len;
    }
    if (!(s = add_step(d, DIALOG_EXPECT, 0, err, errlen)))
        return -1;
    if (expect_re)
        return check_init_regex(&s->ck, expect_re, err, errlen);
    if (expect_text)
        return check_init_prefix(&s->ck, expect_text, expect_len, err, errlen);
    return 0;
}

int dialog_repeatable(const lg_dialog *d)
{
    return d->nsteps > 0 && d->step[d->nsteps - 1].kind == DIALOG_EXPECT &&
           d->step[d->repeat_from].kind == DIALOG_SEND;
}

void dialog_free(lg_dialog *d)
{
    for (int i = 0; i < d->nsteps; i++) {
        free(d->step[i].data);
        check_free(&d->step[i].ck);
    }
    free(d->step);
    memset(d, 0, sizeof(*d));
}
