/* hlog.c -- HdrHistogram interval logs (as HistogramLogWriter writes them): a header, then a
 * line per phase and interval holding its histogram. */
#include "hlog.h"

#include <time.h>

void hlog_write_header(FILE *out, uint64_t base_unix_ns)
{
    double start_s = (double)base_unix_ns / 1e9;
    time_t secs = (time_t)(base_unix_ns / 1000000000u);
    struct tm tm;
    char date[64] = "";
    if (gmtime_r(&secs, &tm))
        strftime(date, sizeof(date), "%a %b %d %H:%M:%S UTC %Y", &tm);
    fprintf(out, "#[loadgen interval log: values in microseconds, Interval_Max in ms]\n");
    fprintf(out, "#[Histogram log format version 1.3]\n");
    fprintf(out, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_s, date);
    fprintf(out, "#[BaseTime: %.3f (seconds since epoch)]\n", start_s);
    fputs("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
          "\"Interval_Compressed_Histogram\"\n",
          out);
}

void hlog_write_line(FILE *out, const char *tag, double start_s, double length_s, uint64_t max_us,
                     const char *encoded)
{
    fprintf(out, "Tag=%s,%.3f,%.3f,%.3f,%s\n", tag, start_s, length_s, (double)max_us / 1e3,
            encoded);
}

int hlog_write_result(FILE *out, const json_t *result)
{
    const json_t *start = json_object_get(result, "start_unix_ns");
    const json_t *intervals = json_object_get(result, "intervals");
    if (!json_is_integer(start) || !json_is_array(intervals))
        return -1;
    hlog_write_header(out, (uint64_t)json_integer_value(start));
    size_t k;
    const json_t *iv;
    json_array_foreach(intervals, k, iv) {
        const char *tag;
        const json_t *phase;
        double start_s = json_number_value(json_object_get(iv, "start_s"));
        double length_s = json_number_value(json_object_get(iv, "length_s"));
        json_object_foreach((json_t *)json_object_get(iv, "latency_us"), tag, phase) {
            const char *encoded = json_string_value(json_object_get(phase, "hist"));
            const json_t *max = json_object_get(phase, "max");
            if (!encoded || !json_is_integer(max))
                return -1;
            hlog_write_line(out, tag, start_s, length_s, (uint64_t)json_integer_value(max),
                            encoded);
        }
    }
    return ferror(out) ? -1 : 0;
}
