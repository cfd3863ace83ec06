// test_hist.cc -- unit tests of the latency histogram (common/hist.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hist.h"

namespace {

struct HistDeleter {
    void operator()(hist *h) const { hist_destroy(h); }
};
using HistPtr = std::unique_ptr<hist, HistDeleter>;

HistPtr make_hist()
{
    HistPtr h(hist_create());
    EXPECT_NE(h, nullptr);
    return h;
}

// Nearest-rank percentile of sorted values, the definition hist_percentile documents.
uint64_t exact_percentile(const std::vector<uint64_t> &sorted, double p)
{
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::max<size_t>(rank, 1);
    return sorted[std::min(rank, sorted.size()) - 1];
}

std::string to_text(const hist *h, bool hgrm)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(hgrm ? hist_write_hgrm(h, f, 5, 1000.0) : hist_write_raw(h, f), 0);
    fclose(f);
    std::string text(buf, len);
    free(buf);
    return text;
}

// Values spread over many orders of magnitude: log-uniform from 1 us to about 100 s.
std::vector<uint64_t> random_values(size_t n, unsigned seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> exponent(0.0, 8.0);
    std::vector<uint64_t> values(n);
    for (auto &v : values)
        v = static_cast<uint64_t>(std::pow(10.0, exponent(rng)));
    return values;
}

TEST(Hist, EmptyReportsZeros)
{
    auto h = make_hist();
    EXPECT_EQ(hist_count(h.get()), 0u);
    EXPECT_EQ(hist_min(h.get()), 0u);
    EXPECT_EQ(hist_max(h.get()), 0u);
    EXPECT_EQ(hist_percentile(h.get(), 99.0), 0u);
    EXPECT_EQ(hist_mean(h.get()), 0.0);
    EXPECT_EQ(hist_stddev(h.get()), 0.0);
}

TEST(Hist, PercentilesWithinPrecisionOfExactValues)
{
    auto values = random_values(200000, 42);
    auto h = make_hist();
    for (auto v : values)
        hist_record(h.get(), v);
    std::sort(values.begin(), values.end());
    ASSERT_EQ(hist_count(h.get()), values.size());
    for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        uint64_t exact = exact_percentile(values, p);
        uint64_t got = hist_percentile(h.get(), p);
        // 3 significant digits: the bucket holding a value is at most value/1024 wide.
        double tolerance = static_cast<double>(exact) / 1024.0;
        EXPECT_LE(std::abs(static_cast<double>(got) - static_cast<double>(exact)), tolerance)
            << "p" << p << " exact " << exact << " got " << got;
        EXPECT_GE(got, exact) << "reports the bucket's highest equivalent value";
    }
    EXPECT_EQ(hist_min(h.get()), values.front());
    EXPECT_EQ(hist_max(h.get()), values.back());
}

TEST(Hist, MeanAndStddevCloseToExact)
{
    auto values = random_values(50000, 7);
    auto h = make_hist();
    double sum = 0, sq = 0;
    for (auto v : values) {
        hist_record(h.get(), v);
        sum += static_cast<double>(v);
    }
    double mean = sum / values.size();
    for (auto v : values)
        sq += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
    double stddev = std::sqrt(sq / values.size());
    EXPECT_NEAR(hist_mean(h.get()), mean, mean / 1000.0);
    EXPECT_NEAR(hist_stddev(h.get()), stddev, stddev / 1000.0);
}

TEST(Hist, SmallValuesAreExact)
{
    auto h = make_hist();
    for (uint64_t v = 0; v < 2048; v++)
        hist_record(h.get(), v);
    EXPECT_EQ(hist_percentile(h.get(), 50.0), 1023u);
    EXPECT_EQ(hist_percentile(h.get(), 100.0), 2047u);
    EXPECT_DOUBLE_EQ(hist_mean(h.get()), 1023.5);
}

TEST(Hist, EdgeValues)
{
    auto h = make_hist();
    hist_record(h.get(), 0);
    EXPECT_EQ(hist_min(h.get()), 0u);
    EXPECT_EQ(hist_percentile(h.get(), 100.0), 0u);
    hist_record(h.get(), 1);
    hist_record(h.get(), HIST_HIGHEST);
    EXPECT_EQ(hist_max(h.get()), HIST_HIGHEST);
    EXPECT_EQ(hist_percentile(h.get(), 100.0), HIST_HIGHEST);
    // Above the highest trackable value: clamped, never dropped.
    hist_record(h.get(), HIST_HIGHEST + 1);
    hist_record(h.get(), UINT64_MAX);
    EXPECT_EQ(hist_count(h.get()), 5u);
    EXPECT_EQ(hist_max(h.get()), HIST_HIGHEST);
    EXPECT_EQ(hist_percentile(h.get(), 20.0), 0u);
    EXPECT_EQ(hist_percentile(h.get(), 40.0), 1u);
    EXPECT_EQ(hist_percentile(h.get(), 60.0), HIST_HIGHEST);
    // Out-of-range percentiles are clamped, not undefined.
    EXPECT_EQ(hist_percentile(h.get(), -5.0), 0u);
    EXPECT_EQ(hist_percentile(h.get(), 500.0), HIST_HIGHEST);
}

TEST(Hist, RecordNEqualsRepeatedRecord)
{
    auto a = make_hist(), b = make_hist();
    hist_record_n(a.get(), 123456, 1000);
    for (int i = 0; i < 1000; i++)
        hist_record(b.get(), 123456);
    EXPECT_EQ(to_text(a.get(), false), to_text(b.get(), false));
}

TEST(Hist, MergeOfPartsEqualsWhole)
{
    auto values = random_values(100000, 3);
    auto whole = make_hist(), merged = make_hist();
    std::vector<HistPtr> parts;
    for (int i = 0; i < 4; i++)
        parts.push_back(make_hist());
    for (size_t i = 0; i < values.size(); i++) {
        hist_record(whole.get(), values[i]);
        hist_record(parts[i % 4].get(), values[i]);
    }
    for (auto &part : parts)
        hist_merge(merged.get(), part.get());
    EXPECT_EQ(to_text(merged.get(), true), to_text(whole.get(), true));
    for (double p : {50.0, 99.0, 99.9, 100.0})
        EXPECT_EQ(hist_percentile(merged.get(), p), hist_percentile(whole.get(), p));
    // Merging an empty histogram changes nothing, merging into an empty one copies.
    auto empty = make_hist(), copy = make_hist();
    hist_merge(merged.get(), empty.get());
    hist_merge(copy.get(), whole.get());
    EXPECT_EQ(to_text(merged.get(), false), to_text(whole.get(), false));
    EXPECT_EQ(to_text(copy.get(), false), to_text(whole.get(), false));
}

TEST(Hist, HgrmHasHdrHistogramLayout)
{
    auto h = make_hist();
    for (uint64_t v = 1; v <= 10000; v++)
        hist_record(h.get(), v * 100); // 100 us .. 1 s
    std::string text = to_text(h.get(), true);
    EXPECT_EQ(text.rfind("       Value     Percentile TotalCount 1/(1-Percentile)\n\n", 0), 0u)
        << text.substr(0, 80);
    EXPECT_NE(text.find("#[Mean    = "), std::string::npos);
    EXPECT_NE(text.find("#[Max     =     1000.000, Total count    =        10000]"),
              std::string::npos);
    EXPECT_NE(text.find("#[Buckets =           22, SubBuckets     =         2048]"),
              std::string::npos);
    // First row: lowest value at percentile 0; last row: percentile 1 with the full count.
    EXPECT_NE(text.find("       0.100 0.000000000000          1           1.00\n"),
              std::string::npos);
    EXPECT_NE(text.find(" 1.000000000000      10000\n#[Mean"), std::string::npos);
    // Percentile column rises and the count column never falls.
    double last_p = -1;
    long last_count = 0;
    char *cursor = &text[0];
    int rows = 0;
    for (char *line = strtok(cursor, "\n"); line; line = strtok(nullptr, "\n")) {
        double value, p;
        long count;
        if (line[0] == '#' || sscanf(line, "%lf %lf %ld", &value, &p, &count) != 3)
            continue;
        EXPECT_GT(p, last_p);
        EXPECT_GE(count, last_count);
        last_p = p;
        last_count = count;
        rows++;
    }
    EXPECT_GT(rows, 50);
}

TEST(Hist, RawRoundTripIsExact)
{
    auto values = random_values(20000, 11);
    auto h = make_hist(), back = make_hist();
    for (auto v : values)
        hist_record(h.get(), v);
    hist_record(h.get(), 0);
    hist_record(h.get(), HIST_HIGHEST);
    std::string text = to_text(h.get(), true);
    char err[HIST_ERRLEN];
    ASSERT_EQ(hist_parse(text.data(), text.size(), back.get(), err, sizeof(err)), 0) << err;
    EXPECT_EQ(to_text(back.get(), true), text);
    // Parsing adds: reading the same text again doubles every count.
    ASSERT_EQ(hist_parse(text.data(), text.size(), back.get(), err, sizeof(err)), 0) << err;
    EXPECT_EQ(hist_count(back.get()), 2 * hist_count(h.get()));
    EXPECT_EQ(hist_percentile(back.get(), 99.0), hist_percentile(h.get(), 99.0));
}

TEST(Hist, EmptyRoundTrip)
{
    auto h = make_hist(), back = make_hist();
    std::string text = to_text(h.get(), true);
    char err[HIST_ERRLEN];
    ASSERT_EQ(hist_parse(text.data(), text.size(), back.get(), err, sizeof(err)), 0) << err;
    EXPECT_EQ(hist_count(back.get()), 0u);
}

// Each malformed input is rejected with a message, and the target histogram is untouched.
TEST(Hist, ParseRejectsMalformedDumps)
{
    const char *header = "#greeter-hist v1 highest=3600000000 digits=3 ";
    std::vector<std::string> bad = {
        "",
        "just some text\n",
        std::string(header) + "total=1 min=5 max=5\n#c 5:1\n",                     // no end
        std::string(header) + "total=2 min=5 max=5\n#c 5:1\n#greeter-hist end\n",  // sum
        std::string(header) + "total=1 min=5 max=5\n#c 6:1\n#greeter-hist end\n",  // min
        std::string(header) + "total=1 min=5 max=5\n#c 5:0\n#greeter-hist end\n",  // zero
        std::string(header) + "total=2 min=5 max=6\n#c 6:1 5:1\n#greeter-hist end\n", // order
        std::string(header) + "total=1 min=5 max=5\n#c 99999999:1\n#greeter-hist end\n",
        std::string(header) + "total=1 min=5 max=5\n#c 5:1 \n#greeter-hist end\n",
        std::string(header) + "total=1 min=5 max=5\n#c 5:x\n#greeter-hist end\n",
        std::string(header) + "total=1 min=5 max=5\n#c\n#greeter-hist end\n",
        std::string(header) + "total=1 min=5 max=5\nstray\n#greeter-hist end\n",
        std::string(header) + "total=1 min=6 max=5\n#c 5:1\n#greeter-hist end\n",
        std::string(header) + "total=99999999999999999999 min=5 max=5\n",
        std::string(header) + "total=0 min=1 max=1\n#greeter-hist end\n",
        "#greeter-hist v1 highest=100 digits=3 total=0 min=0 max=0\n#greeter-hist end\n",
        "#greeter-hist v1 highest=3600000000 digits=2 total=0 min=0 max=0\n#greeter-hist end\n",
        std::string(header) + "total=0 min=0 max=0 extra=1\n#greeter-hist end\n",
        std::string(header) + "total=0 min=0 max=0\n#greeter-hist end\n" + header +
            "total=0 min=0 max=0\n#greeter-hist end\n",
        std::string(header) + "total=2 min=5 max=5\n#c 5:18446744073709551615 5:1\n",
        std::string(header) + "total=0 min=0 max=0\n" + std::string(5000, '#') + "\n",
        std::string(header) + "total=0 min=0 max=0\n#greeter-hist end\n#greeter-hist v9\n",
        std::string("#greeter-hist v1 highest=3600000000 digits=3 total=0 min=0 max=0\0\n", 64),
    };
    auto h = make_hist();
    hist_record(h.get(), 77);
    for (const auto &text : bad) {
        char err[HIST_ERRLEN] = "";
        EXPECT_EQ(hist_parse(text.data(), text.size(), h.get(), err, sizeof(err)), -1) << text;
        EXPECT_NE(err[0], '\0') << text;
        EXPECT_EQ(hist_count(h.get()), 1u) << text;
    }
}

// Truncating a valid dump at every byte never crashes and never half-applies counts.
TEST(Hist, ParseSurvivesEveryTruncation)
{
    auto h = make_hist();
    for (uint64_t v : {3u, 50u, 4000u, 123456u, 99999999u})
        hist_record(h.get(), v);
    std::string text = to_text(h.get(), false);
    for (size_t cut = 0; cut < text.size(); cut++) {
        auto back = make_hist();
        char err[HIST_ERRLEN];
        int rc = hist_parse(text.data(), cut, back.get(), err, sizeof(err));
        EXPECT_EQ(hist_count(back.get()), rc == 0 ? 5u : 0u) << "cut " << cut;
    }
}

// Random byte changes to a valid dump: never a crash or an over-read (run under ASan), and
// whatever parses is self-consistent.
TEST(Hist, ParseSurvivesRandomMutations)
{
    auto h = make_hist();
    for (uint64_t v : {0u, 7u, 2047u, 2048u, 99999u, 3000000u})
        hist_record(h.get(), v);
    const std::string valid = to_text(h.get(), false);
    const char alphabet[] = "0123456789:# \n-cgreterhistv1=x\0";
    std::mt19937 rng(2024);
    for (int round = 0; round < 3000; round++) {
        std::string text = valid;
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rng() % text.size();
            switch (rng() % 3) {
            case 0: text[at] = alphabet[rng() % (sizeof(alphabet) - 1)]; break;
            case 1: text.erase(at, 1 + rng() % 3); break;
            default: text.insert(at, 1, alphabet[rng() % (sizeof(alphabet) - 1)]); break;
            }
            if (text.empty())
                text = "#";
        }
        // An exact-size heap copy, so ASan sees any read past the end.
        std::unique_ptr<char[]> copy(new char[text.size()]);
        memcpy(copy.get(), text.data(), text.size());
        auto back = make_hist();
        char err[HIST_ERRLEN];
        if (hist_parse(copy.get(), text.size(), back.get(), err, sizeof(err)) == 0) {
            EXPECT_LE(hist_min(back.get()), hist_max(back.get()));
            EXPECT_LE(hist_max(back.get()), HIST_HIGHEST);
            if (hist_count(back.get()) > 0) {
                EXPECT_LE(hist_percentile(back.get(), 50), hist_max(back.get()));
            }
        } else {
            EXPECT_EQ(hist_count(back.get()), 0u);
            EXPECT_NE(err[0], '\0');
        }
    }
}

} // namespace
