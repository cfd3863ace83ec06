// test_loadgen_stages.cc -- --stage: the plan's arithmetic, the options it conflicts with, and
// runs whose intervals follow the ramp (connections in flight, or starts per second with -R).
#include <gtest/gtest.h>
#include <jansson.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "loadgen_inproc.h"
#include "loadgen_testutil.h"
#include "stages.h"
#include "testproc.h"

namespace {

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

stage_plan plan_of(const std::vector<std::string> &stages, double start = 0)
{
    stage_plan plan = {};
    plan.start_level = start;
    char err[256];
    for (const auto &s : stages)
        EXPECT_EQ(stages_add(&plan, s.c_str(), err, sizeof(err)), 0) << err;
    return plan;
}

} // namespace

TEST(Stages, LevelIsLinearWithinEachStage)
{
    stage_plan plan = plan_of({"10s:100", "5s:100", "10s:0"});
    EXPECT_EQ(stages_total_us(&plan), 25000000);
    EXPECT_DOUBLE_EQ(stages_peak(&plan), 100);
    EXPECT_DOUBLE_EQ(stages_level(&plan, 0), 0);
    EXPECT_DOUBLE_EQ(stages_level(&plan, 5000000000ull), 50);
    EXPECT_DOUBLE_EQ(stages_level(&plan, 12000000000ull), 100);
    EXPECT_DOUBLE_EQ(stages_level(&plan, 20000000000ull), 50);
    EXPECT_DOUBLE_EQ(stages_level(&plan, 30000000000ull), 0) << "after the end: the last target";
}

TEST(Stages, StartsFollowTheRateIntegral)
{
    // 100/s constant: start n at n/100 s.
    stage_plan flat = plan_of({"10s:100"}, 100);
    EXPECT_EQ(stages_time_of_count(&flat, 0), 0u);
    EXPECT_NEAR(static_cast<double>(stages_time_of_count(&flat, 250)), 2.5e9, 1e3);
    EXPECT_EQ(stages_time_of_count(&flat, 1001), UINT64_MAX) << "past the plan's 1000 starts";
    // 0 -> 200/s over 2 s: the integral is 50 t^2, so 50 starts by 1 s, 200 by 2 s.
    stage_plan ramp = plan_of({"2s:200"});
    EXPECT_NEAR(static_cast<double>(stages_time_of_count(&ramp, 50)), 1e9, 1e3);
    EXPECT_NEAR(static_cast<double>(stages_time_of_count(&ramp, 200)), 2e9, 1e3);
    // A pause at 0 in the middle is crossed, not waited on forever: 50 starts on the way
    // down, none at 0, then 50 t^2 again: the 60th at 2 s + sqrt(0.2) s.
    stage_plan pause = plan_of({"1s:0", "1s:0", "1s:100"}, 100);
    EXPECT_NEAR(static_cast<double>(stages_time_of_count(&pause, 60)), 2.4472136e9, 1e4);
}

TEST(Stages, ConflictsAreRefusedClearly)
{
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"--stage", "10s:100", "-d", "5s", "h:1"}, "-d does not apply with --stage"},
        {{"--stage", "10s:100", "-c", "50", "h:1"}, "-c does not apply with --stage"},
        {{"--stage", "10s:100", "--connect-rate", "5", "h:1"}, "--connect-rate does not apply"},
        {{"--stage", "1s:100", "--warmup", "2s", "h:1"}, "--warmup must be shorter"},
        {{"--stage", "10s", "h:1"}, "expected DURATION:TARGET"},
        {{"--stage", "soon:100", "h:1"}, "is not a duration"},
        {{"--stage", "10s:-4", "h:1"}, "is not a target"},
        {{"--stage", "10s:0", "h:1"}, "needs a target of 1"},
    };
    for (const auto &b : bad) {
        lg_config cfg;
        std::string err;
        EXPECT_EQ(parse_args(b.first, &cfg, &err), -1) << b.second;
        EXPECT_NE(err.find(b.second), std::string::npos) << err;
        config_free(&cfg);
    }
    lg_config cfg;
    std::string err;
    ASSERT_EQ(parse_args({"--stage", "2s:30", "--stage", "1s:10", "--warmup", "500ms", "h:1"},
                         &cfg, &err),
              0)
        << err;
    EXPECT_EQ(cfg.connections, 30) << "slots for the peak";
    EXPECT_EQ(cfg.duration_us, 2500000) << "the stages less the warm-up";
    config_free(&cfg);
}

// Closed loop: in flight follows 0 -> 40 -> 40 -> 0, interval by interval.
TEST(StagesRun, InFlightFollowsTheRamp)
{
    TestProc server, lg;
    int port = start_server(server, {"--work-us", "3000", "--workers", "64"});
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"--stage", "1s:40", "--stage", "500ms:40", "--stage", "1s:0",
                           "--interval", "250ms", "-q", "--json", "-", target(port)}),
              0)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *intervals = json_object_get(root.get(), "intervals");
    ASSERT_GE(json_array_size(intervals), 10u);
    const double expected[] = {10, 20, 30, 40, 40, 40, 30, 20, 10, 0};
    for (size_t i = 0; i < 10; i++) {
        json_t *iv = json_array_get(intervals, i);
        EXPECT_NEAR(json_number_value(json_object_get(iv, "target")), expected[i], 0.01) << i;
        // Sampled at the boundary: a ramp-up may trail by the 1 ms the loop looks again in,
        // and on the way down connections end when the (loaded) server greets them.
        EXPECT_NEAR(static_cast<double>(int_at(iv, "in_flight")), expected[i], 6) << i;
    }
    stop_server(server);
}

// Open loop: starts per interval follow the rate ramp 100/s -> 500/s.
TEST(StagesRun, OpenLoopStartsFollowTheRate)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"-R", "100", "--stage", "1s:500", "--interval", "250ms", "-q",
                           "--json", "-", target(port)}),
              0)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *intervals = json_object_get(root.get(), "intervals");
    ASSERT_GE(json_array_size(intervals), 4u);
    // Integral of 100 + 400 t over each quarter second: 37.5, 62.5, 87.5, 112.5. A start is
    // counted when it happens, so on a loaded machine late ones slip into the next interval;
    // the ramp still shows: the last quarter has about three times the first's starts.
    long long first = int_at(json_array_get(intervals, 0), "starts");
    long long last = int_at(json_array_get(intervals, 3), "starts");
    EXPECT_NEAR(static_cast<double>(first), 37.5, 12);
    EXPECT_GT(last, 2 * first) << lg.out().substr(0, 3000);
    EXPECT_DOUBLE_EQ(json_number_value(json_object_get(json_array_get(intervals, 3), "target")),
                     500);
    EXPECT_NEAR(static_cast<double>(int_at(root.get(), "starts")), 300, 2);
    stop_server(server);
}
