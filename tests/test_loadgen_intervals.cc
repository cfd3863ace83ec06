// test_loadgen_intervals.cc -- loadgen's run over time: the histogram encoding, intervals that
// add up to the totals, the HdrHistogram log read back by HdrHistogram's own Java tool, and
// the default target.
#include <gtest/gtest.h>
#include <jansson.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config.h"
#include "hdr_codec.h"
#include "hist.h"
#include "loadgen_inproc.h"
#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

using HistPtr = std::unique_ptr<hist, decltype(&hist_destroy)>;

HistPtr make_hist() { return HistPtr(hist_create(), hist_destroy); }

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

// Every bucket of a equals b's.
void expect_same_buckets(const hist *a, const hist *b, const std::string &what)
{
    ASSERT_EQ(hist_count(a), hist_count(b)) << what;
    for (int i = 0; i < hist_index_len(); i++)
        ASSERT_EQ(hist_count_at(a, i), hist_count_at(b, i)) << what << " bucket " << i;
}

// Adds the encoded histogram in phase object o ("hist") into h.
void add_encoded(const json_t *phase, hist *h)
{
    const char *text = json_string_value(json_object_get(phase, "hist"));
    ASSERT_NE(text, nullptr);
    char err[256];
    ASSERT_EQ(hdr_decode(text, strlen(text), h, err, sizeof(err)), 0) << err;
}

std::string read_file(const std::string &path)
{
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

} // namespace

TEST(HdrCodec, RoundTripIsExactBucketByBucket)
{
    auto h = make_hist(), back = make_hist();
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latency(7.0, 1.5);
    for (int i = 0; i < 200000; i++)
        hist_record(h.get(), static_cast<uint64_t>(latency(rng)));
    hist_record_n(h.get(), HIST_HIGHEST, 3); // the last bucket, and counts above 1
    char *text = hdr_encode(h.get());
    ASSERT_NE(text, nullptr);
    EXPECT_EQ(std::string(text).rfind("HISTF", 0), 0u) << "the compressed V2 cookie in base64";
    char err[256];
    ASSERT_EQ(hdr_decode(text, strlen(text), back.get(), err, sizeof(err)), 0) << err;
    free(text);
    expect_same_buckets(h.get(), back.get(), "decoded");
    for (double p : {50.0, 90.0, 99.0, 99.9})
        EXPECT_EQ(hist_percentile(back.get(), p), hist_percentile(h.get(), p)) << p;
}

TEST(HdrCodec, EmptyHistogramRoundTrips)
{
    auto h = make_hist(), back = make_hist();
    char *text = hdr_encode(h.get());
    ASSERT_NE(text, nullptr);
    char err[256];
    EXPECT_EQ(hdr_decode(text, strlen(text), back.get(), err, sizeof(err)), 0) << err;
    EXPECT_EQ(hist_count(back.get()), 0u);
    free(text);
}

TEST(HdrCodec, RefusesWhatIsNotOurHistogram)
{
    auto h = make_hist();
    hist_record(h.get(), 1234);
    char *good = hdr_encode(h.get());
    ASSERT_NE(good, nullptr);
    std::string text(good);
    free(good);
    char err[256];
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "not base64"},
        {"HISTF!!!", "not base64"},
        {text.substr(0, text.size() - 4), "not an HdrHistogram compressed"},
        {"AAAAAAAAAAA=", "not an HdrHistogram compressed"},
    };
    for (const auto &b : bad) {
        EXPECT_EQ(hdr_decode(b.first.data(), b.first.size(), h.get(), err, sizeof(err)), -1)
            << b.first;
        EXPECT_NE(std::string(err).find(b.second), std::string::npos) << err;
    }
    EXPECT_EQ(hist_count(h.get()), 1u) << "a refused input changes nothing";
}

// Without a target loadgen aims at the server's default, as `loadgen -c 1000` promises.
TEST(LoadgenDefaults, NoTargetMeansTheServersDefault)
{
    const char *argv[] = {"loadgen", "-c", "1000", nullptr};
    lg_config cfg;
    char err[CONFIG_ERRLEN] = "";
    ASSERT_EQ(config_parse(3, const_cast<char **>(argv), &cfg, err, sizeof(err)), 0)
        << err;
    EXPECT_STREQ(cfg.target, "localhost:12345");
    EXPECT_EQ(cfg.default_target, 1);
    EXPECT_EQ(cfg.connections, 1000);
    EXPECT_EQ(cfg.interval_us, 1000000);
    config_free(&cfg);
}

// Every interval's counts and histograms add up to the run's, exactly.
TEST(LoadgenIntervals, AddUpToTheTotals)
{
    TestProc server, lg;
    int port = start_server(server, {"--work-us", "200"});
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"-d", "1.5", "-c", "20", "--interval", "250ms", "--warmup", "200ms",
                           "--json", "-", target(port)}),
              0)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    EXPECT_STREQ(json_string_value(json_object_get(root.get(), "schema")), "loadgen-result/2");
    EXPECT_GT(int_at(root.get(), "start_unix_ns"), 1600000000LL * 1000000000LL);
    EXPECT_TRUE(json_is_string(json_object_get(root.get(), "host")));
    json_t *intervals = json_object_get(root.get(), "intervals");
    ASSERT_TRUE(json_is_array(intervals));
    // 6 full intervals of 250 ms in 1.5 s, plus the grace's tail.
    EXPECT_GE(json_array_size(intervals), 6u);
    long long starts = 0, greetings = 0, errors = 0;
    auto sum = make_hist(), whole = make_hist();
    const char *phases[] = {"connect", "first_byte", "greeting"};
    std::vector<HistPtr> sums;
    for (size_t p = 0; p < 3; p++)
        sums.push_back(make_hist());
    for (size_t i = 0; i < json_array_size(intervals); i++) {
        json_t *iv = json_array_get(intervals, i);
        EXPECT_EQ(int_at(iv, "index"), static_cast<long long>(i));
        starts += int_at(iv, "starts");
        greetings += int_at(iv, "greetings");
        errors += int_at(json_object_get(iv, "errors"), "total");
        for (size_t p = 0; p < 3; p++)
            add_encoded(json_object_get(json_object_get(iv, "latency_us"), phases[p]),
                        sums[p].get());
        if (i + 1 < json_array_size(intervals)) { // all but the tail are full and busy
            EXPECT_DOUBLE_EQ(json_real_value(json_object_get(iv, "length_s")), 0.25);
            EXPECT_GT(int_at(iv, "greetings"), 0) << i;
        }
        if (i + 2 < json_array_size(intervals)) { // at the window's end no start replaces
            // Sampled as each thread crosses the boundary: one may be between a connection's
            // end and its replacement.
            EXPECT_GE(int_at(iv, "in_flight"), 15) << i;
            EXPECT_LE(int_at(iv, "in_flight"), 20) << i;
        }
    }
    EXPECT_EQ(starts, int_at(root.get(), "starts"));
    EXPECT_EQ(greetings, int_at(root.get(), "greetings"));
    EXPECT_EQ(errors, int_at(json_object_get(root.get(), "errors"), "total"));
    EXPECT_GT(greetings, 0);
    for (size_t p = 0; p < 3; p++) {
        auto total = make_hist();
        add_encoded(json_object_get(json_object_get(root.get(), "latency_us"), phases[p]),
                    total.get());
        expect_same_buckets(sums[p].get(), total.get(), phases[p]);
    }
    // Little's law over the span the connections were open: never above the peak.
    json_t *conc = json_object_get(root.get(), "concurrency");
    EXPECT_LE(json_number_value(json_object_get(conc, "mean")),
              json_number_value(json_object_get(conc, "peak")));
    // The progress line is the interval's figures.
    EXPECT_NE(lg.err().find("loadgen:    0.2s"), std::string::npos) << lg.err();
    EXPECT_NE(lg.err().find("greetings/s"), std::string::npos) << lg.err();
    stop_server(server);
}

// One CSV row per interval, with the same counts as the JSON.
TEST(LoadgenIntervals, CsvRowPerInterval)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    TempDir dir;
    ASSERT_EQ(loadgen(lg, {"-d", "1", "-c", "4", "-q", "--interval", "500ms", "--csv-intervals",
                           dir.path("iv.csv"), "--json", dir.path("r.json"), target(port)}),
              0)
        << lg.err();
    std::string csv = read_file(dir.path("iv.csv"));
    EXPECT_EQ(csv.rfind("index,start_s,length_s,starts,greetings,rate,refused,", 0), 0u) << csv;
    JsonPtr root = parse_json(read_file(dir.path("r.json")));
    ASSERT_NE(root, nullptr);
    size_t rows = std::count(csv.begin(), csv.end(), '\n') - 1;
    EXPECT_EQ(rows, json_array_size(json_object_get(root.get(), "intervals"))) << csv;
    EXPECT_NE(csv.find("\n0,0.000,0.500,"), std::string::npos) << csv;
    stop_server(server);
}

namespace {

// Runs HdrHistogram's own HistogramLogProcessor on the log at hlog and checks that its totals
// line (the last " T:" line) has the count and percentiles of result_json's greeting phase.
void expect_java_reads_the_greetings(const std::string &hlog, const std::string &result_json,
                                     const std::string &java_out)
{
    const char *jar = "/usr/share/java/hdrhistogram.jar", *java_bin = "/usr/bin/java";
    TestProc java;
    // -XX:-UsePerfData: the JVM would leave /tmp/hsperfdata_USER behind.
    ASSERT_EQ(run_command(java, {java_bin, "-XX:-UsePerfData", "-cp", jar,
                                 "org.HdrHistogram.HistogramLogProcessor", "-i", hlog, "-tag",
                                 "greeting", "-outputValueUnitRatio", "1", "-o", java_out},
                          60000),
              0)
        << java.err();
    // The last interval line holds the totals: T:count ( 50% 90% 99% 99.9% 99.99% Max ).
    std::string out = read_file(java_out), last;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (line.find(" T:") != std::string::npos)
            last = line;
    ASSERT_FALSE(last.empty()) << out;
    long long count = 0;
    double p50, p90, p99, p999, p9999, max;
    ASSERT_EQ(sscanf(last.c_str() + last.find(" T:"), " T:%lld ( %lf %lf %lf %lf %lf %lf", &count,
                     &p50, &p90, &p99, &p999, &p9999, &max),
              7)
        << last;
    JsonPtr root = parse_json(read_file(result_json));
    ASSERT_NE(root, nullptr);
    json_t *g = json_object_get(json_object_get(root.get(), "latency_us"), "greeting");
    EXPECT_GT(count, 0);
    EXPECT_EQ(count, int_at(g, "count"));
    // Java reports the highest value of the bucket; loadgen caps that at the exact maximum.
    long long our_max = int_at(g, "max");
    auto same = [&](double java_value, const char *key) {
        EXPECT_EQ(std::min(static_cast<long long>(java_value), our_max), int_at(g, key)) << key;
    };
    same(p50, "p50");
    same(p90, "p90");
    same(p99, "p99");
    same(p999, "p999");
    EXPECT_GE(static_cast<long long>(max), our_max);
    EXPECT_LE(static_cast<long long>(max), our_max + our_max / 1024 + 1);
}

bool have_java_tool()
{
    return access("/usr/share/java/hdrhistogram.jar", R_OK) == 0 &&
           access("/usr/bin/java", X_OK) == 0;
}

} // namespace

// HdrHistogram's own HistogramLogProcessor reads --hlog and finds loadgen's percentiles.
TEST(LoadgenIntervals, HlogReadByHdrHistogramsJavaTool)
{
    if (!have_java_tool())
        GTEST_SKIP() << "needs /usr/bin/java and hdrhistogram.jar (tools/lib.sh installs them)";
    TestProc server, lg;
    int port = start_server(server, {"--work-us", "300"});
    ASSERT_GT(port, 0);
    TempDir dir;
    ASSERT_EQ(loadgen(lg, {"-d", "1.2", "-c", "8", "-q", "--interval", "400ms", "--hlog",
                           dir.path("run.hlog"), "--json", dir.path("run.json"), target(port)}),
              0)
        << lg.err();
    stop_server(server);
    expect_java_reads_the_greetings(dir.path("run.hlog"), dir.path("run.json"), dir.path("java"));
}

// A fleet's log: two shards started together, merged with --hlog; HdrHistogram's tool reads
// the fleet's percentiles from it.
TEST(LoadgenIntervals, MergedFleetHlogReadByHdrHistogramsJavaTool)
{
    if (!have_java_tool())
        GTEST_SKIP() << "needs /usr/bin/java and hdrhistogram.jar (tools/lib.sh installs them)";
    TestProc server, shard0, shard1, merge;
    int port = start_server(server, {"--work-us", "300"});
    ASSERT_GT(port, 0);
    TempDir dir;
    std::string start_at = std::to_string(time(nullptr) + 2); // both wait for it
    auto shard_args = [&](const char *shard, const std::string &json) {
        return std::vector<std::string>{GREETER_LOADGEN_BIN, "-d", "1.2", "-c", "8", "-q",
                                        "--interval", "400ms", "--shard", shard, "--start-at",
                                        start_at, "--json", json, target(port)};
    };
    ASSERT_TRUE(shard0.start(shard_args("0/2", dir.path("s0.json"))));
    ASSERT_TRUE(shard1.start(shard_args("1/2", dir.path("s1.json"))));
    EXPECT_EQ(shard0.wait_exit(20000), 0) << shard0.err();
    EXPECT_EQ(shard1.wait_exit(20000), 0) << shard1.err();
    stop_server(server);
    ASSERT_EQ(run_command(merge, {GREETER_LOADGEN_BIN, "merge", "-o", dir.path("fleet.json"),
                                  "--hlog", dir.path("fleet.hlog"), dir.path("s0.json"),
                                  dir.path("s1.json")}),
              0)
        << merge.err();
    expect_java_reads_the_greetings(dir.path("fleet.hlog"), dir.path("fleet.json"),
                                    dir.path("java"));
    // Not an .hgrm merge's option, and never stdout (the report goes there).
    EXPECT_EQ(run_command(merge, {GREETER_LOADGEN_BIN, "merge", "--hlog", "-",
                                  dir.path("s0.json")}),
              2);
    EXPECT_NE(merge.err().find("--hlog needs a file name"), std::string::npos) << merge.err();
}

// `loadgen -c N` as written: the report's first line names the default target. Whatever
// listens on localhost:12345 here (usually nothing: exit 1), the run goes there.
TEST(LoadgenDefaults, ReportSaysTheDefaultTarget)
{
    TestProc lg;
    int rc = loadgen(lg, {"-c", "2", "-n", "2", "-q", "--timeout", "300ms"});
    EXPECT_TRUE(rc == 0 || rc == 1) << rc << lg.err();
    std::string first = lg.out().substr(0, lg.out().find('\n'));
    EXPECT_EQ(first.rfind("target ", 0), 0u) << lg.out();
    EXPECT_NE(first.find(":12345 ("), std::string::npos) << first;
    EXPECT_NE(first.find("no target given: the default localhost:12345"), std::string::npos)
        << first;
}
