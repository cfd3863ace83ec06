// test_fleet_merge.cc -- the fleet merge on recorded values: exact percentiles and buckets, intervals
// placed by wall-clock time, and mismatched or hostile inputs refused with the file and reason.
#include <gtest/gtest.h>

#include <jansson.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "fleet.h"
#include "fleet_judge.h"
#include "hdr_codec.h"
#include "hist.h"
#include "result.h"
#include "timeline.h"

namespace {

const long long kStart = 1795838400LL * 1000000000LL; // 2026-11-28T04:00:00Z

struct HistDeleter {
    void operator()(hist *h) const { hist_destroy(h); }
};
using HistPtr = std::unique_ptr<hist, HistDeleter>;

// A minimal result as loadgen writes it: one phase ("greeting"), its intervals' histograms
// holding every sample of the run.
json_t *make_result(const std::vector<std::vector<uint64_t>> &intervals, json_t *shard,
                    long long start_ns = kStart, const char *target = "198.18.0.1:12345",
                    double interval_s = 1.0)
{
    HistPtr total(hist_create());
    json_t *ivs = json_array();
    long long count = 0;
    for (size_t k = 0; k < intervals.size(); k++) {
        HistPtr h(hist_create());
        for (uint64_t v : intervals[k]) {
            hist_record(h.get(), v);
            hist_record(total.get(), v);
        }
        count += static_cast<long long>(intervals[k].size());
        json_array_append_new(
            ivs, json_pack("{s:I, s:f, s:f, s:I, s:I, s:f, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I, s:{s:o}}",
                           "index", (json_int_t)k, "start_s", (double)k * interval_s, "length_s",
                           interval_s, "starts", (json_int_t)intervals[k].size(), "greetings",
                           (json_int_t)intervals[k].size(), "rate", (double)intervals[k].size(),
                           "errors", "refused", (json_int_t)1, "timeout", (json_int_t)0, "total",
                           (json_int_t)1, "unfinished", (json_int_t)0, "late_starts",
                           (json_int_t)0, "in_flight", (json_int_t)10, "established_not_greeted",
                           (json_int_t)2, "latency_us", "greeting", timeline_phase_json(h.get())));
    }
    char when[64];
    snprintf(when, sizeof(when), "start+%lld", start_ns - kStart);
    json_t *r = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:o, s:I, s:s, s:f, s:f, s:f, s:I, s:I, s:f, s:I, "
        "s:I, s:{s:I, s:I, s:I}, s:{s:s, s:s, s:i, s:I, s:i}, s:{s:o}, s:o, s:{s:f, s:f, s:b}}",
        "schema", "loadgen-result/2", "target", target, "transport", "tcp", "mode", "closed",
        "threads", 2, "connections", 10, "host", "h", "shard", shard, "start_unix_ns",
        (json_int_t)start_ns, "start_time", when, "warmup_s", 0.0, "duration_s",
        (double)intervals.size() * interval_s, "interval_s", interval_s, "starts", (json_int_t)count,
        "greetings", (json_int_t)count, "rate", (double)count, "bytes_read", (json_int_t)0,
        "warmup_greetings", (json_int_t)0, "errors", "refused", (json_int_t)intervals.size(),
        "timeout", (json_int_t)0, "total", (json_int_t)intervals.size(), "histogram", "encoding",
        "HdrHistogram", "unit", "us", "lowest", 1, "highest", (json_int_t)HIST_HIGHEST,
        "significant_digits", HIST_SIGNIFICANT_DIGITS, "latency_us", "greeting",
        timeline_phase_json(total.get()), "intervals", ivs, "cpu", "user_s", 0.5, "sys_s", 0.25,
        "saturated", 0);
    json_object_set_new(r, "unfinished", json_integer(0));
    json_object_set_new(r, "late_starts", json_integer(0));
    return r;
}

json_t *shard(int index, int count)
{
    return json_pack("{s:i, s:i}", "index", index, "count", count);
}

// Round-trips a made result through text, as a file would, so result_parse checks it.
json_t *as_read(json_t *made)
{
    char *text = json_dumps(made, 0);
    char err[RESULT_ERRLEN] = "";
    json_t *r = result_parse(text, strlen(text), err, sizeof(err));
    EXPECT_NE(r, nullptr) << err;
    free(text);
    json_decref(made);
    return r;
}

struct Fleet {
    std::vector<json_t *> shards;
    std::vector<std::string> names;
    std::string err;
    json_t *merged = nullptr;
    ~Fleet()
    {
        for (json_t *s : shards)
            json_decref(s);
        json_decref(merged);
    }
    void add(json_t *made)
    {
        shards.push_back(as_read(made));
        names.push_back("shard" + std::to_string(names.size()) + ".json");
    }
    json_t *merge()
    {
        std::vector<const char *> paths;
        for (auto &n : names)
            paths.push_back(n.c_str());
        char buf[RESULT_ERRLEN] = "";
        merged = fleet_merge(shards.data(), paths.data(), static_cast<int>(shards.size()), buf,
                             sizeof(buf));
        err = buf;
        return merged;
    }
};

HistPtr phase_hist(const json_t *latency, const char *phase)
{
    HistPtr h(hist_create());
    char err[RESULT_ERRLEN];
    EXPECT_EQ(result_phase_hist(json_object_get(latency, phase), h.get(), err, sizeof(err)), 0) << err;
    return h;
}

TEST(FleetMerge, PercentilesEqualOneHistogramOfEverySample)
{
    std::mt19937_64 rng(12345);
    std::lognormal_distribution<double> fast(6.0, 0.8), slow(9.0, 1.2);
    HistPtr everything(hist_create());
    Fleet fleet;
    for (int s = 0; s < 3; s++) {
        std::vector<std::vector<uint64_t>> intervals(4);
        for (auto &iv : intervals)
            for (int i = 0; i < 5000; i++) {
                // Shard 2 is the slow one: a fleet average of percentiles would be wrong here.
                uint64_t v = static_cast<uint64_t>(s == 2 ? slow(rng) : fast(rng)) + 1;
                iv.push_back(v);
                hist_record(everything.get(), v);
            }
        fleet.add(make_result(intervals, shard(s, 3)));
    }
    ASSERT_NE(fleet.merge(), nullptr) << fleet.err;
    HistPtr merged = phase_hist(json_object_get(fleet.merged, "latency_us"), "greeting");
    ASSERT_EQ(hist_count(merged.get()), hist_count(everything.get()));
    for (int i = 0; i < hist_index_len(); i++)
        ASSERT_EQ(hist_count_at(merged.get(), i), hist_count_at(everything.get(), i)) << "bucket " << i;
    for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0})
        EXPECT_EQ(hist_percentile(merged.get(), p), hist_percentile(everything.get(), p)) << "p" << p;
    const json_t *g = json_object_get(json_object_get(fleet.merged, "latency_us"), "greeting");
    EXPECT_EQ(static_cast<uint64_t>(result_int(g, "p99")), hist_percentile(everything.get(), 99));
    EXPECT_EQ(result_int(fleet.merged, "greetings"), 60000);
    EXPECT_EQ(result_int(json_object_get(fleet.merged, "errors"), "refused"), 12);
    EXPECT_EQ(json_array_size(json_object_get(fleet.merged, "shards")), 3u);
}

// The fleet's rate counts what finished inside the window, as each shard's does, and the
// fleet says what stopped it (a signal to one shard is the fleet's reason).
TEST(FleetMerge, RateLeavesOutGreetingsAfterTheWindowAndStoppedByIsKept)
{
    Fleet fleet;
    const char *stopped[] = {"duration", "signal"};
    for (int s = 0; s < 2; s++) {
        json_t *r = make_result({{100, 200, 300, 400}, {500, 600, 700, 800}}, shard(s, 2));
        json_object_set_new(r, "greetings_after_window", json_integer(2 + s));
        json_object_set_new(r, "stopped_by", json_string(stopped[s]));
        fleet.add(r);
    }
    ASSERT_NE(fleet.merge(), nullptr) << fleet.err;
    EXPECT_EQ(result_int(fleet.merged, "greetings"), 16);
    EXPECT_EQ(result_int(fleet.merged, "greetings_after_window"), 5);
    EXPECT_DOUBLE_EQ(result_number(fleet.merged, "rate"),
                     11.0 / result_number(fleet.merged, "duration_s"));
    EXPECT_STREQ(json_string_value(json_object_get(fleet.merged, "stopped_by")), "signal");
}

TEST(FleetMerge, IntervalsAreSummedBucketByBucketAtTheSameWallClockTime)
{
    Fleet fleet;
    // Shard 1 started one interval later (and 40 ms off the boundary, within tolerance).
    fleet.add(make_result({{100, 200}, {300}, {400}}, shard(0, 2)));
    fleet.add(make_result({{1000}, {2000, 3000}}, shard(1, 2), kStart + 1040000000LL));
    ASSERT_NE(fleet.merge(), nullptr) << fleet.err;
    const json_t *ivs = json_object_get(fleet.merged, "intervals");
    ASSERT_EQ(json_array_size(ivs), 3u);
    const long long want[] = {2, 2, 3};
    for (size_t k = 0; k < 3; k++) {
        const json_t *iv = json_array_get(ivs, k);
        EXPECT_EQ(result_int(iv, "index"), static_cast<long long>(k));
        EXPECT_EQ(result_int(iv, "greetings"), want[k]) << "interval " << k;
        HistPtr h = phase_hist(json_object_get(iv, "latency_us"), "greeting");
        EXPECT_EQ(hist_count(h.get()), static_cast<uint64_t>(want[k]));
    }
    HistPtr second = phase_hist(json_object_get(json_array_get(ivs, 1), "latency_us"), "greeting");
    EXPECT_EQ(hist_min(second.get()), 300u);
    EXPECT_EQ(hist_max(second.get()), 1000u);
    EXPECT_EQ(result_int(json_array_get(ivs, 2), "in_flight"), 20);
}

TEST(FleetMerge, FailIfIsJudgedOnTheFleet)
{
    Fleet fleet;
    std::vector<uint64_t> samples(1500, 1000); // 1 ms each
    fleet.add(make_result({samples}, shard(0, 2)));
    fleet.add(make_result({samples}, shard(1, 2)));
    ASSERT_NE(fleet.merge(), nullptr) << fleet.err;
    failif_cond conds[3];
    char err[RESULT_ERRLEN];
    // Each shard alone greets 1500/s: only the fleet meets rate>2000.
    ASSERT_EQ(failif_parse("rate>2000", &conds[0], err, sizeof(err)), 0) << err;
    ASSERT_EQ(failif_parse("p99<2ms", &conds[1], err, sizeof(err)), 0) << err;
    ASSERT_EQ(failif_parse("errors<0.01%", &conds[2], err, sizeof(err)), 0) << err;
    FILE *out = fopen("/dev/null", "w");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(fleet_judge(fleet.merged, conds, 3, out, err, sizeof(err)), 1) << err;
    fclose(out);
    const json_t *verdicts = json_object_get(fleet.merged, "fail_if");
    ASSERT_EQ(json_array_size(verdicts), 3u);
    EXPECT_TRUE(json_is_true(json_object_get(json_array_get(verdicts, 0), "pass")));
    EXPECT_DOUBLE_EQ(result_number(json_array_get(verdicts, 0), "measured"), 3000.0);
    EXPECT_TRUE(json_is_true(json_object_get(json_array_get(verdicts, 1), "pass")));
    EXPECT_FALSE(json_is_true(json_object_get(json_array_get(verdicts, 2), "pass"))); // 2 of 3002
}

void expect_refused(Fleet &fleet, const std::string &needle)
{
    EXPECT_EQ(fleet.merge(), nullptr);
    EXPECT_NE(fleet.err.find(needle), std::string::npos) << fleet.err;
}

TEST(FleetMerge, RefusesAMissingOrOverlappingShard)
{
    Fleet missing;
    missing.add(make_result({{1}}, shard(0, 3)));
    missing.add(make_result({{1}}, shard(2, 3)));
    expect_refused(missing, "shard 1/3 is missing");
    Fleet twice;
    twice.add(make_result({{1}}, shard(0, 2)));
    twice.add(make_result({{1}}, shard(0, 2)));
    expect_refused(twice, "overlapping");
    Fleet counts;
    counts.add(make_result({{1}}, shard(0, 2)));
    counts.add(make_result({{1}}, shard(1, 3)));
    expect_refused(counts, "shard1.json: shard of 3");
    Fleet mixed;
    mixed.add(make_result({{1}}, shard(0, 2)));
    mixed.add(make_result({{1}}, json_null()));
    expect_refused(mixed, "is not a shard");
    Fleet same_run;
    same_run.add(make_result({{1}}, json_null()));
    same_run.add(make_result({{1}}, json_null()));
    expect_refused(same_run, "same run");
}

TEST(FleetMerge, RefusesShardsOfDifferentTests)
{
    Fleet target;
    target.add(make_result({{1}}, shard(0, 2)));
    target.add(make_result({{1}}, shard(1, 2), kStart, "198.18.0.2:12345"));
    expect_refused(target, "shard1.json: target '198.18.0.2:12345' differs");
    Fleet interval;
    interval.add(make_result({{1}}, shard(0, 2)));
    interval.add(make_result({{1}}, shard(1, 2), kStart, "198.18.0.1:12345", 2.0));
    expect_refused(interval, "interval_s");
    Fleet late;
    late.add(make_result({{1}}, shard(0, 2)));
    late.add(make_result({{1}}, shard(1, 2), kStart + 500000000LL)); // half an interval off
    expect_refused(late, "--start-at");
}

TEST(FleetMerge, RefusesTruncatedAndHostileResults)
{
    json_t *made = make_result({{100, 200}}, shard(0, 1));
    char *text = json_dumps(made, 0);
    json_decref(made);
    std::string good(text);
    free(text);
    char err[RESULT_ERRLEN];
    EXPECT_EQ(result_parse(good.data(), good.size() / 2, err, sizeof(err)), nullptr);
    EXPECT_NE(std::string(err).find("line 1"), std::string::npos) << err;
    struct {
        std::string from, to, needle;
    } cases[] = {
        {"\"greetings\": 2", "\"greetings\": -2", "greetings"},
        {"\"schema\": \"loadgen-result/2\"", "\"schema\": \"other/9\"", "schema"},
        {"\"significant_digits\": 3", "\"significant_digits\": 2", "layout"},
        {"\"index\": 0, \"count\": 1", "\"index\": 1, \"count\": 1", "shard"},
        {"\"hist\": \"", "\"hist\": \"!!", "latency_us.greeting"},
    };
    for (auto &c : cases) {
        std::string bad = good;
        size_t at = bad.find(c.from);
        ASSERT_NE(at, std::string::npos) << c.from;
        bad.replace(at, c.from.size(), c.to);
        json_t *r = result_parse(bad.data(), bad.size(), err, sizeof(err));
        EXPECT_EQ(r, nullptr) << c.to;
        json_decref(r);
        EXPECT_NE(std::string(err).find(c.needle), std::string::npos) << c.to << ": " << err;
    }
}

} // namespace
