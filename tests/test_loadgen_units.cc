// test_loadgen_units.cc -- loadgen's modules in-process: schedule, options, sources, counters.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <string>
#include <vector>

#include "config.h"
#include "kstats.h"
#include "schedule.h"
#include "stats.h"
#include "target.h"

namespace {

// Starts due before first + window_ns.
uint64_t starts_within(schedule *s, uint64_t first_ns, uint64_t window_ns)
{
    uint64_t n = 0;
    while (schedule_due(s) < first_ns + window_ns && n < 100000000) {
        schedule_take(s);
        n++;
    }
    return n;
}

TEST(Schedule, UniformStartCountIsRateTimesDuration)
{
    const uint64_t first = 5000000000ull;
    for (double rate : {1.0, 333.0, 1000.0, 25000.0}) {
        schedule s;
        schedule_init(&s, rate, 0, first, 1);
        EXPECT_EQ(starts_within(&s, first, 2000000000ull), static_cast<uint64_t>(rate * 2))
            << "rate " << rate;
    }
}

TEST(Schedule, UniformGapsDoNotDrift)
{
    schedule s;
    schedule_init(&s, 3.0, 0, 0, 1); // a gap of 333333333.33 ns: rounding must not add up
    for (int i = 0; i < 3000; i++)
        schedule_take(&s);
    EXPECT_EQ(schedule_due(&s), 1000000000000ull);
}

TEST(Schedule, PoissonCountNearRateTimesDuration)
{
    const double rate = 10000.0, seconds = 10.0;
    schedule s;
    schedule_init(&s, rate, 1, 0, 12345);
    double n = static_cast<double>(starts_within(&s, 0, static_cast<uint64_t>(seconds * 1e9)));
    double expected = rate * seconds, sigma = std::sqrt(expected);
    EXPECT_NEAR(n, expected, 5 * sigma);
}

TEST(Schedule, PoissonIsRepeatableBySeedAndVaries)
{
    schedule a, b, c;
    schedule_init(&a, 100.0, 1, 0, 7);
    schedule_init(&b, 100.0, 1, 0, 7);
    schedule_init(&c, 100.0, 1, 0, 8);
    bool differs = false;
    uint64_t last_gap = 0, prev = 0;
    bool gaps_vary = false;
    for (int i = 0; i < 100; i++) {
        EXPECT_EQ(schedule_due(&a), schedule_due(&b));
        differs |= schedule_due(&a) != schedule_due(&c);
        uint64_t gap = schedule_due(&a) - prev;
        gaps_vary |= i > 1 && gap != last_gap;
        last_gap = gap;
        prev = schedule_due(&a);
        schedule_take(&a);
        schedule_take(&b);
        schedule_take(&c);
    }
    EXPECT_TRUE(differs);
    EXPECT_TRUE(gaps_vary);
}

// Runs config_parse over args (the program name is added).
int parse(std::vector<std::string> args, lg_config *cfg, std::string *err = nullptr)
{
    args.insert(args.begin(), "loadgen");
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(&a[0]);
    argv.push_back(nullptr);
    char buf[CONFIG_ERRLEN] = "";
    int r = config_parse(static_cast<int>(args.size()), argv.data(), cfg, buf,
                                   sizeof(buf));
    if (err)
        *err = buf;
    return r;
}

TEST(Config, Defaults)
{
    lg_config cfg;
    ASSERT_EQ(parse({"127.0.0.1:80"}, &cfg), 0);
    EXPECT_EQ(cfg.connections, CONFIG_DEFAULT_CONNECTIONS);
    EXPECT_EQ(cfg.duration_us, CONFIG_DEFAULT_DURATION_US);
    EXPECT_EQ(cfg.timeout_us, CONFIG_DEFAULT_TIMEOUT_US);
    EXPECT_EQ(cfg.rate, 0.0);
    EXPECT_EQ(cfg.total, 0);
    EXPECT_GE(cfg.threads, 1);
    EXPECT_EQ(cfg.expect, nullptr);
    EXPECT_STREQ(cfg.target, "127.0.0.1:80");
    config_free(&cfg);
}

TEST(Config, NumberAloneMeansNoTimeBoundAndOpenLoopCap)
{
    lg_config cfg;
    ASSERT_EQ(parse({"-n", "500", "-c", "3", "-t", "8", "h:1"}, &cfg), 0);
    EXPECT_EQ(cfg.total, 500);
    EXPECT_EQ(cfg.duration_us, 0);
    EXPECT_EQ(cfg.threads, 3) << "never more threads than connections";
    config_free(&cfg);
    ASSERT_EQ(parse({"-R", "250.5", "--poisson", "-d", "1500ms", "h:1"}, &cfg), 0);
    EXPECT_EQ(cfg.connections, CONFIG_DEFAULT_OPEN_LOOP_CAP);
    EXPECT_DOUBLE_EQ(cfg.rate, 250.5);
    EXPECT_EQ(cfg.duration_us, 1500000);
    config_free(&cfg);
}

TEST(Config, TextOptionsTakeEscapes)
{
    lg_config cfg;
    ASSERT_EQ(parse({"--send", "PING\\r\\n", "--expect", "a\\x41\\\\", "h:1"}, &cfg), 0);
    EXPECT_EQ(std::string(cfg.send, cfg.send_len), "PING\r\n");
    EXPECT_EQ(std::string(cfg.expect, cfg.expect_len), "aA\\");
    config_free(&cfg);
}

TEST(Config, BadUsageNamesTheProblem)
{
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--bogus", "h:1"}, "unknown option '--bogus'"},
        {{"-c"}, "option '-c' needs a value"},
        {{"h:1", "h:2"}, "unexpected argument 'h:2'"},
        {{"-c", "0", "h:1"}, "-c: 0 is out of range"},
        {{"-c", "ten", "h:1"}, "-c: 'ten' is not a whole number"},
        {{"-R", "-5", "h:1"}, "-R: '-5' is not a rate"},
        {{"-d", "5 parsecs", "h:1"}, "-d"},
        {{"--poisson", "h:1"}, "--poisson needs an open-loop rate"},
        {{"-R", "10", "--connect-rate", "5", "h:1"}, "--connect-rate"},
        {{"--expect", "", "h:1"}, "--expect: empty text"},
        {{"--send", "bad\\q", "h:1"}, "--send: bad escape"},
        {{"--timeout", "0", "h:1"}, "--timeout: '0' is too short"},
    };
    for (const auto &c : cases) {
        lg_config cfg;
        std::string err;
        EXPECT_EQ(parse(c.first, &cfg, &err), -1) << c.second;
        EXPECT_NE(err.find(c.second), std::string::npos) << "got: " << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << "one line";
        config_free(&cfg);
    }
}

TEST(Target, SyntaxNeedsAPort)
{
    char err[256];
    EXPECT_EQ(target_check_syntax("127.0.0.1:80", SOCK_STREAM, err, sizeof(err)), 0);
    EXPECT_EQ(target_check_syntax("[::1]:80", SOCK_STREAM, err, sizeof(err)), 0);
    EXPECT_EQ(target_check_syntax("localhost", SOCK_STREAM, err, sizeof(err)), -1);
    EXPECT_EQ(target_check_syntax("127.0.0.1:0", SOCK_STREAM, err, sizeof(err)), -1);
    EXPECT_EQ(target_check_syntax("[::1:80", SOCK_STREAM, err, sizeof(err)), -1);
    EXPECT_EQ(target_check_syntax("127.0.0.1:99999", SOCK_STREAM, err, sizeof(err)), -1);
    EXPECT_EQ(target_check_syntax("127.0.0.1:nosuchservice", SOCK_STREAM, err, sizeof(err)), -1);
    EXPECT_NE(std::string(err).find("unknown service 'nosuchservice'"), std::string::npos) << err;
}

TEST(Target, SourcesFromListAndCidr)
{
    lg_target t;
    char err[256];
    ASSERT_EQ(target_resolve(&t, "127.0.0.1:9", SOCK_STREAM, err, sizeof(err)), 0) << err;
    EXPECT_STREQ(t.text, "127.0.0.1:9");
    ASSERT_EQ(target_set_sources(&t, "127.0.0.2,127.0.0.3", err, sizeof(err)), 0) << err;
    ASSERT_EQ(t.nsources, 2u);
    auto *second = reinterpret_cast<sockaddr_in *>(&t.sources[1]);
    EXPECT_EQ(ntohl(second->sin_addr.s_addr), 0x7f000003u);
    target_free(&t);
    ASSERT_EQ(target_set_sources(&t, "127.1.0.0/24", err, sizeof(err)), 0) << err;
    EXPECT_EQ(t.nsources, 254u) << "host addresses only";
    auto *first = reinterpret_cast<sockaddr_in *>(&t.sources[0]);
    EXPECT_EQ(ntohl(first->sin_addr.s_addr), 0x7f010001u);
    target_free(&t);
    ASSERT_EQ(target_set_sources(&t, "127.0.0.9/32", err, sizeof(err)), 0) << err;
    EXPECT_EQ(t.nsources, 1u);
    target_free(&t);
    for (const char *bad : {"10.0.0.0/24", "127.0.0.0/8", "127.0.0.0/x", "nonsense", "::1", ","}) {
        EXPECT_EQ(target_set_sources(&t, bad, err, sizeof(err)), -1) << bad;
        EXPECT_NE(std::string(err).find("--source"), std::string::npos) << err;
        target_free(&t);
    }
}

TEST(Kstats, ParsesNamePairs)
{
    const char *text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans\n"
                       "TcpExt: 1 22 333 4\n"
                       "IpExt: InNoRoutes ListenOverflows\n"
                       "IpExt: 9 9\n"
                       "Tcp: RtoAlgorithm ActiveOpens OutRsts\n"
                       "Tcp: 1 777 8\n";
    kstats k = {};
    kstats_parse(text, &k);
    EXPECT_EQ(k.value[KSTAT_LISTEN_OVERFLOWS], 22u) << "IpExt's field of the same name ignored";
    EXPECT_EQ(k.value[KSTAT_LISTEN_DROPS], 333u);
    EXPECT_EQ(k.value[KSTAT_SYN_RETRANS], 4u);
    EXPECT_EQ(k.value[KSTAT_SYNCOOKIES_SENT], 1u);
    EXPECT_EQ(k.value[KSTAT_ACTIVE_OPENS], 777u);
    EXPECT_EQ(k.value[KSTAT_OUT_RSTS], 8u);
    EXPECT_TRUE(k.present[KSTAT_OUT_RSTS]);
    EXPECT_FALSE(k.present[KSTAT_TCP_TIMEOUTS]);
    EXPECT_STREQ(kstats_name(KSTAT_LISTEN_OVERFLOWS), "ListenOverflows");
}

TEST(Kstats, ReadsThisMachine)
{
    kstats k;
    kstats_read(&k);
    EXPECT_TRUE(k.present[KSTAT_LISTEN_OVERFLOWS]);
    EXPECT_TRUE(k.present[KSTAT_ACTIVE_OPENS]);
}

TEST(Stats, ErrnoCauses)
{
    EXPECT_EQ(lg_stats_classify_errno(ECONNREFUSED), LG_ERR_REFUSED);
    EXPECT_EQ(lg_stats_classify_errno(ECONNRESET), LG_ERR_RESET);
    EXPECT_EQ(lg_stats_classify_errno(EPIPE), LG_ERR_RESET);
    EXPECT_EQ(lg_stats_classify_errno(ETIMEDOUT), LG_ERR_TIMEOUT);
    EXPECT_EQ(lg_stats_classify_errno(EADDRNOTAVAIL), LG_ERR_ADDR_UNAVAIL);
    EXPECT_EQ(lg_stats_classify_errno(EMFILE), LG_ERR_FD_LIMIT);
    EXPECT_EQ(lg_stats_classify_errno(EHOSTUNREACH), LG_ERR_OTHER);
}

TEST(Stats, MergeAddsCountersAndHistograms)
{
    lg_stats a, b;
    ASSERT_EQ(lg_stats_init(&a), 0);
    ASSERT_EQ(lg_stats_init(&b), 0);
    a.greetings = 3;
    a.errors[LG_ERR_TIMEOUT] = 1;
    a.last_finish_ns = 50;
    b.greetings = 4;
    b.errors[LG_ERR_TIMEOUT] = 2;
    b.last_finish_ns = 40;
    hist_record(a.phase[LG_PHASE_GREETING], 10);
    hist_record(b.phase[LG_PHASE_GREETING], 20);
    lg_stats_merge(&a, &b);
    EXPECT_EQ(a.greetings, 7u);
    EXPECT_EQ(lg_stats_error_total(&a), 3u);
    EXPECT_EQ(a.last_finish_ns, 50u);
    EXPECT_EQ(hist_count(a.phase[LG_PHASE_GREETING]), 2u);
    lg_stats_destroy(&a);
    lg_stats_destroy(&b);
}

// TLS failure reasons: counted by text, merged by text, and a full table gathers the rest.
TEST(Stats, TlsReasonsCountMergeAndOverflow)
{
    lg_stats a, b;
    ASSERT_EQ(lg_stats_init(&a), 0);
    ASSERT_EQ(lg_stats_init(&b), 0);
    lg_stats_count_reason(&a.tls_reasons, "certificate verify failed: hostname mismatch", 2);
    lg_stats_count_reason(&b.tls_reasons, "peer did not speak TLS (wrong version number)", 1);
    lg_stats_count_reason(&b.tls_reasons, "certificate verify failed: hostname mismatch", 3);
    b.tls_full = 4;
    b.tls_resumed = 5;
    lg_stats_merge(&a, &b);
    ASSERT_EQ(a.tls_reasons.n, 2);
    EXPECT_STREQ(a.tls_reasons.entry[0].text, "certificate verify failed: hostname mismatch");
    EXPECT_EQ(a.tls_reasons.entry[0].count, 5u);
    EXPECT_EQ(a.tls_reasons.entry[1].count, 1u);
    EXPECT_EQ(a.tls_full + a.tls_resumed, 9u);
    for (int i = 0; i < LG_TLS_REASONS + 5; i++)
        lg_stats_count_reason(&a.tls_reasons, ("reason " + std::to_string(i)).c_str(), 1);
    EXPECT_EQ(a.tls_reasons.n, LG_TLS_REASONS);
    EXPECT_STREQ(a.tls_reasons.entry[LG_TLS_REASONS - 1].text, LG_REASON_OVERFLOW);
    uint64_t total = 0;
    for (int i = 0; i < a.tls_reasons.n; i++)
        total += a.tls_reasons.entry[i].count;
    EXPECT_EQ(total, 6u + LG_TLS_REASONS + 5) << "no failure lost";
    lg_stats_destroy(&a);
    lg_stats_destroy(&b);
}

} // namespace
