/* check.h -- judging a reply: its start against a text, or its first line against a POSIX
 * extended regular expression, whatever the segmentation it arrives in; where the reply ends. */
#ifndef LOADGEN_CHECK_H
#define LOADGEN_CHECK_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CHECK_ANY = 0, /* any non-empty reply */
    CHECK_PREFIX,  /* the reply begins with text (--expect) */
    CHECK_REGEX,   /* the reply's first line matches re (--expect-re) */
} check_kind;

typedef struct check {
    check_kind kind;
    char *text;    /* PREFIX: the bytes required (owned); REGEX: the pattern as given (owned) */
    size_t len;
    regex_t re;    /* REGEX only */
} check;

/* Bytes of a reply's start kept per connection: a regex judges the first line within them
 * (a longer line is judged on its start) and the report shows them. */
#define CHECK_HEAD 120

/* What arrived of one reply so far, per connection. */
typedef struct check_reply {
    size_t got;         /* bytes of this reply so far */
    uint8_t met;        /* the check is met; the reply may still wait for its line's end */
    uint8_t head_len;
    char head[CHECK_HEAD];
} check_reply;

typedef enum { CHECK_PENDING = 0, CHECK_PASS, CHECK_FAIL } check_verdict;

/* A check that the reply begins with text[0..len) (len > 0; copied). 0, or -1 on ENOMEM. */
int check_init_prefix(check *ck, const char *text, size_t len, char *err, size_t errlen);
/* A check that the first line (without its \r\n) matches pattern, REG_EXTENDED. 0, or -1
 * with regerror's reason in err. */
int check_init_regex(check *ck, const char *pattern, char *err, size_t errlen);
/* Releases what an init made; a zeroed check (CHECK_ANY) is fine. */
void check_free(check *ck);

void check_reply_reset(check_reply *r);

/*
 * Feeds the next n bytes of the reply. *used says how many of them belong to it: the reply ends
 * at the first '\n' at or after the check's last byte (for ANY and REGEX: its first line), and
 * what follows belongs to whatever comes next. until_line_end 0: PASS as soon as the check is
 * met (the connection's last exchange: a server that greets and waits is fine); 1: PASS once
 * the reply has ended too (another exchange follows on the connection). CHECK_ANY is met by
 * any byte but passes only at a line's end (until_line_end) or at EOF. FAIL as soon as the
 * bytes cannot match, whatever is still to come.
 */
check_verdict check_feed(const check *ck, check_reply *r, const char *p, size_t n,
                         int until_line_end, size_t *used);

/* The verdict when the peer closed (or the reply cannot grow): PASS or FAIL. */
check_verdict check_at_eof(const check *ck, check_reply *r);

/*
 * Writes the first line of what arrived into out, escaped (\r \n \t \\ and \xHH for other
 * bytes outside printable ASCII), its line end included, "..." when cut; "(nothing)" when no
 * byte arrived. out is always NUL-terminated.
 */
void check_describe(const check_reply *r, char *out, size_t outlen);

/* Escapes src[0..len) into out as check_describe does (no "..." marker); returns the number of
 * source bytes that fitted. */
size_t check_escape(const char *src, size_t len, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif
#endif
