/* merge.c -- 'loadgen merge': adds histograms saved by --hgrm, exactly. */
#include "merge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define MERGE_MAX_FILE (64u << 20) /* a dump is at most ~24k buckets: far below this */

/* Reads a whole file into a new buffer the caller frees; NULL with a message in err. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= MERGE_MAX_FILE)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = !buf || ferror(f) || n >= MERGE_MAX_FILE;
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "%s", buf ? "unreadable or larger than 64 MB" : "out of memory");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void print_summary(const hist *h, int files)
{
    fprintf(stderr,
            "merged %d file%s: count %" PRIu64 ", p50 %" PRIu64 " us, p90 %" PRIu64
            " us, p99 %" PRIu64 " us, p99.9 %" PRIu64 " us, max %" PRIu64 " us, mean %.1f us\n",
            files, files == 1 ? "" : "s", hist_count(h), hist_percentile(h, 50),
            hist_percentile(h, 90), hist_percentile(h, 99), hist_percentile(h, 99.9),
            hist_max(h), hist_mean(h));
}

static int usage(const char *what)
{
    fprintf(stderr, "loadgen merge: %s (usage: loadgen merge [-o FILE] FILE...)\n", what);
    return 2;
}

/* Adds each file into h; 0, or 1 after naming the file that failed. */
static int merge_files(char **paths, int count, hist *h)
{
    for (int i = 0; i < count; i++) {
        char err[HIST_ERRLEN];
        size_t len;
        char *text = read_file(paths[i], &len, err, sizeof(err));
        int rc = text ? hist_parse(text, len, h, err, sizeof(err)) : -1;
        free(text);
        if (rc != 0) {
            fprintf(stderr, "loadgen merge: %s: %s\n", paths[i], err);
            return 1;
        }
    }
    return 0;
}

int merge_main(int argc, char **argv)
{
    const char *out_path = NULL;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-o") == 0) {
        if (argc < 3)
            return usage("-o needs a file name");
        out_path = argv[2];
        first = 3;
    }
    if (first >= argc)
        return usage("no files to merge");
    for (int i = first; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage("options go before the files");
    hist *h = hist_create();
    if (!h)
        return fprintf(stderr, "loadgen merge: out of memory\n"), 1;
    int status = merge_files(argv + first, argc - first, h);
    if (status == 0) {
        FILE *out = out_path ? fopen(out_path, "we") : stdout;
        int failed = !out || hist_write_hgrm(h, out, 5, 1000.0) != 0;
        int saved = errno;
        /* Close (or flush) whatever was opened, even after a failed write. */
        int finish_rc = 0;
        if (out_path && out)
            finish_rc = fclose(out);
        else if (!out_path)
            finish_rc = fflush(stdout);
        if (finish_rc != 0 && !failed) {
            failed = 1;
            saved = errno;
        }
        if (failed) {
            fprintf(stderr, "loadgen merge: writing %s: %s\n", out_path ? out_path : "stdout",
                    strerror(saved));
            status = 1;
        } else {
            print_summary(h, argc - first);
        }
    }
    hist_destroy(h);
    return status;
}
