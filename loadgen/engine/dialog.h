/* dialog.h -- what one connection says and expects, in order: --dialog FILE's steps, or the
 * --send/--expect/--expect-re options as the same steps; and which of them --requests repeats. */
#ifndef LOADGEN_DIALOG_H
#define LOADGEN_DIALOG_H

#include <stddef.h>

#include "check.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DIALOG_MAX_STEPS 64

typedef enum { DIALOG_SEND = 0, DIALOG_EXPECT } dialog_step_kind;

typedef struct dialog_step {
    dialog_step_kind kind;
    char *data;      /* SEND: the bytes, escapes decoded (owned) */
    size_t len;
    check ck;        /* EXPECT: how the reply is judged */
    int expect_index; /* EXPECT: 0 for the first expect step, 1 for the next... */
    int line;        /* the file's line, 0 for steps made from options */
} dialog_step;

typedef struct lg_dialog {
    dialog_step *step; /* owned */
    int nsteps;
    int nexpects;
    int from_file;     /* --dialog: each expect step is a latency phase of its own */
    int repeat_from;   /* --requests repeats steps [repeat_from, nsteps): from the last send */
} lg_dialog;

/*
 * Reads a dialog file: one step a line, "send TEXT", "expect TEXT" (the reply begins with
 * TEXT) or "expect-re REGEX" (its first line matches), TEXT with the escapes of --send;
 * blank lines and lines starting with '#' are skipped. At most max_expects expect steps. 0, or
 * -1 with "FILE:LINE: what" in err. d is the caller's, released by dialog_free (also after a
 * failure).
 */
int dialog_load(lg_dialog *d, const char *path, int max_expects, char *err, size_t errlen);

/* The steps of --send (send may be NULL) and one expect (expect_text with its length, or
 * expect_re, or neither: any reply). 0, or -1 with err. */
int dialog_from_options(lg_dialog *d, const char *send, size_t send_len, const char *expect_text,
                        size_t expect_len, const char *expect_re, char *err, size_t errlen);

/* 1 when the last step is an expect and a send comes before it: what --requests repeats. */
int dialog_repeatable(const lg_dialog *d);

void dialog_free(lg_dialog *d);

/* Decodes C-style escapes (\n \r \t \0 \\ \xHH) in text into a new buffer the caller frees.
 * Returns 0, or -1 with a message on a malformed escape. */
int dialog_unescape(const char *text, char **out, size_t *outlen, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
