// test_shard.cc -- --shard and --start-at: shares that add up, slices, seeds, time parsing,
// and the options as config_parse applies them.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "config.h"
#include "shard.h"
#include "start_at.h"

namespace {

TEST(Shard, ParsesIndexOfCount)
{
    shard_spec s;
    char err[256];
    ASSERT_EQ(shard_parse("2/5", &s, err, sizeof(err)), 0) << err;
    EXPECT_EQ(s.index, 2);
    EXPECT_EQ(s.count, 5);
    ASSERT_EQ(shard_parse("0/1", &s, err, sizeof(err)), 0) << err;
    for (const char *bad : {"5/5", "-1/3", "1/0", "3", "/3", "1/", "a/3", "1/3x", "1/100001"}) {
        EXPECT_EQ(shard_parse(bad, &s, err, sizeof(err)), -1) << bad;
        EXPECT_NE(std::string(err).find("--shard"), std::string::npos) << err;
    }
}

TEST(Shard, SharesAddUpExactlyAndDifferByAtMostOne)
{
    for (long long total : {1LL, 2LL, 7LL, 10LL, 1000LL, 1001LL, 999999937LL}) {
        for (long count : {1L, 2L, 3L, 4L, 7L, 64L}) {
            long long sum = 0, lo = total, hi = 0;
            for (long i = 0; i < count; i++) {
                shard_spec s = {i, count};
                long long share = shard_share(total, &s);
                sum += share;
                lo = std::min(lo, share);
                hi = std::max(hi, share);
            }
            EXPECT_EQ(sum, total) << total << " over " << count;
            EXPECT_LE(hi - lo, 1) << total << " over " << count;
        }
    }
    shard_spec first = {0, 3}, last = {2, 3};
    EXPECT_EQ(shard_share(10, &first), 4); // the remainder goes to the first shards
    EXPECT_EQ(shard_share(10, &last), 3);
}

TEST(Shard, RateSharesAddUp)
{
    double sum = 0;
    for (long i = 0; i < 3; i++) {
        shard_spec s = {i, 3};
        sum += shard_share_rate(1000.0, &s);
    }
    EXPECT_NEAR(sum, 1000.0, 1e-9);
}

TEST(Shard, SlicesAreDisjointAndCoverEverything)
{
    for (size_t n : {3u, 10u, 254u}) {
        for (long count : {1L, 2L, 3L}) {
            std::vector<int> owner(n, -1);
            for (long i = 0; i < count; i++) {
                shard_spec s = {i, count};
                size_t first, len;
                shard_slice(n, &s, &first, &len);
                EXPECT_EQ(static_cast<long long>(len), shard_share(static_cast<long long>(n), &s));
                for (size_t k = first; k < first + len; k++) {
                    ASSERT_LT(k, n);
                    EXPECT_EQ(owner[k], -1) << "item " << k << " in two shards";
                    owner[k] = static_cast<int>(i);
                }
            }
            for (size_t k = 0; k < n; k++)
                EXPECT_NE(owner[k], -1) << "item " << k << " in no shard";
        }
    }
}

TEST(Shard, SeedsDifferPerShardAndRepeat)
{
    std::set<uint64_t> seeds;
    for (long i = 0; i < 100; i++) {
        shard_spec s = {i, 100};
        seeds.insert(shard_seed(42, &s));
        EXPECT_EQ(shard_seed(42, &s), shard_seed(42, &s));
    }
    EXPECT_EQ(seeds.size(), 100u);
}

int64_t parse_time(const char *text)
{
    int64_t ns = -1;
    char err[256];
    EXPECT_EQ(shard_parse_time(text, &ns, err, sizeof(err)), 0) << text << ": " << err;
    return ns;
}

TEST(StartAt, ParsesUnixTimeAndRfc3339)
{
    const int64_t s = 1000000000;
    EXPECT_EQ(parse_time("1795838400"), 1795838400 * s);
    EXPECT_EQ(parse_time("1795838400.25"), 1795838400 * s + s / 4);
    EXPECT_EQ(parse_time("2026-11-28T04:00:00Z"), 1795838400 * s);
    EXPECT_EQ(parse_time("2026-11-28t04:00:00z"), 1795838400 * s);
    EXPECT_EQ(parse_time("2026-11-28 05:00:00.5+01:00"), 1795838400 * s + s / 2);
    EXPECT_EQ(parse_time("2026-11-27T23:30:00-04:30"), 1795838400 * s);
    EXPECT_EQ(parse_time("1970-01-01T00:00:01Z"), s);
    EXPECT_EQ(parse_time("2024-02-29T00:00:00Z"), 1709164800 * s); // a leap day
}

TEST(StartAt, RefusesWhatIsNotATime)
{
    int64_t ns;
    char err[256];
    for (const char *bad : {"", "now", "-5", "0", "1795838400x", "1.", "2026-11-28T04:00:00",
                            "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-28T24:00:00Z",
                            "2026-11-28T04:00Z", "2026-11-28T04:00:00+1:00", "1969-12-31T23:59:59Z",
                            "2026-11-28T04:00:00Z junk", "123456789012", "99999999999",
                            "2300-01-01T00:00:00Z", // past 2262: more nanoseconds than int64_t
                            // found by fuzz_loadgen_options: digits enough to overflow
                            "2222277777777777777777777777777777777777777777"}) {
        EXPECT_EQ(shard_parse_time(bad, &ns, err, sizeof(err)), -1) << bad;
        EXPECT_NE(std::string(err).find("RFC 3339"), std::string::npos) << err;
    }
}

TEST(StartAt, FormatsBackToRfc3339)
{
    char buf[64];
    start_at_format(1795838400LL * 1000000000 + 123000000, buf, sizeof(buf));
    EXPECT_STREQ(buf, "2026-11-28T04:00:00.123Z");
}

TEST(StartAt, RefusesThePastAndWaitsForTheNearFuture)
{
    char err[512];
    int64_t now = start_at_now_ns();
    EXPECT_EQ(start_at_wait(now - 3000000000LL, "", err, sizeof(err)), -1);
    EXPECT_NE(std::string(err).find("in the past"), std::string::npos) << err;
    EXPECT_EQ(start_at_wait(now + 2 * START_AT_MAX_AHEAD_NS, "", err, sizeof(err)), -1);
    int64_t at = start_at_now_ns() + 50000000; // 50 ms ahead
    ASSERT_EQ(start_at_wait(at, "", err, sizeof(err)), 0) << err;
    EXPECT_GE(start_at_now_ns(), at);
}

int parse(std::vector<std::string> args, lg_config *cfg, std::string *why)
{
    std::vector<char *> argv;
    static char prog[] = "loadgen";
    argv.push_back(prog);
    for (auto &a : args)
        argv.push_back(a.data());
    char err[CONFIG_ERRLEN] = "";
    int r = config_parse(static_cast<int>(argv.size()), argv.data(), cfg, err,
                                   sizeof(err));
    *why = err;
    return r;
}

TEST(ShardOptions, CutConnectionsRateAndCountToTheShare)
{
    lg_config cfg;
    std::string why;
    long long c = 0, n = 0;
    double rate = 0;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(parse({"-c", "10", "-n", "1000", "--shard", std::to_string(i) + "/3",
                         "127.0.0.1:1"}, &cfg, &why), 0) << why;
        c += cfg.connections;
        n += cfg.total;
        config_free(&cfg);
        ASSERT_EQ(parse({"-R", "300", "-c", "30", "--shard", std::to_string(i) + "/3",
                         "127.0.0.1:1"}, &cfg, &why), 0) << why;
        rate += cfg.rate;
        EXPECT_EQ(cfg.connections, 10);
        config_free(&cfg);
    }
    EXPECT_EQ(c, 10);
    EXPECT_EQ(n, 1000);
    EXPECT_NEAR(rate, 300.0, 1e-9);
}

TEST(ShardOptions, StagePlanStaysTheFleetsAndConnectionsAreShared)
{
    lg_config cfg;
    std::string why;
    long connections = 0;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(parse({"--stage", "1s:10", "--stage", "2s:1000", "--shard",
                         std::to_string(i) + "/3", "127.0.0.1:1"}, &cfg, &why), 0) << why;
        ASSERT_EQ(cfg.stages.n, 2);
        // The engine takes the shard's share of the level at every instant.
        EXPECT_EQ(cfg.stages.list[1].target, 1000.0);
        connections += cfg.connections;
        config_free(&cfg);
    }
    EXPECT_EQ(connections, 1000); // the shares of the peak: 334 + 333 + 333
}

TEST(ShardOptions, OpenLoopDefaultCapStaysPerProcess)
{
    lg_config cfg;
    std::string why;
    ASSERT_EQ(parse({"-R", "300", "--shard", "1/3", "127.0.0.1:1"}, &cfg, &why), 0);
    EXPECT_EQ(cfg.connections, CONFIG_DEFAULT_OPEN_LOOP_CAP);
    config_free(&cfg);
}

TEST(ShardOptions, SeedsDifferPerShard)
{
    lg_config a, b;
    std::string why;
    ASSERT_EQ(parse({"--seed", "7", "--shard", "0/2", "127.0.0.1:1"}, &a, &why), 0);
    ASSERT_EQ(parse({"--seed", "7", "--shard", "1/2", "127.0.0.1:1"}, &b, &why), 0);
    EXPECT_NE(a.seed, b.seed);
    config_free(&a);
    config_free(&b);
}

TEST(ShardOptions, RefusesAShardWithNothingToDo)
{
    lg_config cfg;
    std::string why;
    // config_free after each refusal too: the configuration holds what was built before it.
    EXPECT_EQ(parse({"-c", "2", "--shard", "2/3", "127.0.0.1:1"}, &cfg, &why), -1);
    EXPECT_NE(why.find("-c at least 3"), std::string::npos) << why;
    config_free(&cfg);
    EXPECT_EQ(parse({"-c", "3", "-n", "2", "--shard", "2/3", "127.0.0.1:1"}, &cfg, &why),
              -1);
    EXPECT_NE(why.find("-n at least 3"), std::string::npos) << why;
    config_free(&cfg);
    EXPECT_EQ(parse({"--start-at", "soon", "127.0.0.1:1"}, &cfg, &why), -1);
    EXPECT_NE(why.find("--start-at"), std::string::npos) << why;
    config_free(&cfg);
}

} // namespace
