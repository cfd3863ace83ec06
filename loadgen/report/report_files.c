/* report_files.c -- loadgen's table outputs: the --csv phase rows and --hgrm histogram files. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

/* Rows HdrHistogram prints per halving of the distance to 100%, as wrk2 and the Java tool. */
#define HGRM_TICKS_PER_HALF 5
/* .hgrm values are milliseconds, what the usual plotters expect; we record microseconds. */
#define HGRM_VALUE_SCALE 1000.0

int report_csv(FILE *out, const lg_report *r)
{
    fputs("phase,count,min_us,p50_us,p90_us,p99_us,p999_us,max_us,mean_us,stddev_us\n", out);
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        const hist *h = r->stats->phase[p];
        if (!report_phase_applies(r, p))
            continue;
        fprintf(out,
                "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%.1f,%.1f\n",
                lg_stats_phase_names[p], hist_count(h), hist_min(h), hist_percentile(h, 50),
                hist_percentile(h, 90), hist_percentile(h, 99), hist_percentile(h, 99.9),
                hist_max(h), hist_mean(h), hist_stddev(h));
    }
    return ferror(out) ? -1 : 0;
}

int report_hgrm(const char *dir, const lg_report *r, char *err, size_t errlen)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--hgrm %s: %s", dir, strerror(errno));
        return -1;
    }
    for (int p = 0; p < LG_PHASE_COUNT; p++) {
        char path[4096];
        if (!report_phase_applies(r, p))
            continue;
        snprintf(path, sizeof(path), "%s/%s.hgrm", dir, lg_stats_phase_names[p]);
        FILE *f = fopen(path, "we");
        if (!f) {
            snprintf(err, errlen, "--hgrm %s: %s", path, strerror(errno));
            return -1;
        }
        int rc = hist_write_hgrm(r->stats->phase[p], f, HGRM_TICKS_PER_HALF, HGRM_VALUE_SCALE);
        if (fclose(f) != 0 || rc != 0) {
            snprintf(err, errlen, "--hgrm %s: write failed", path);
            return -1;
        }
    }
    return 0;
}
