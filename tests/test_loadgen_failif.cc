// test_loadgen_failif.cc -- --fail-if: conditions parsed (and bad ones refused with the
// grammar), then judged on a server with a known delay: listed in the report and the JSON,
// exit 3 when one is not met.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config.h"
#include "failif.h"
#include "loadgen_inproc.h"
#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

failif_cond parsed(const std::string &text)
{
    failif_cond c;
    char err[1024] = "";
    EXPECT_EQ(failif_parse(text.c_str(), &c, err, sizeof(err)), 0) << text << ": " << err;
    return c;
}

} // namespace

TEST(FailIf, ParsesEveryKind)
{
    failif_cond c = parsed("p99<50ms");
    EXPECT_EQ(c.kind, FAILIF_LATENCY);
    EXPECT_EQ(c.phase, LG_PHASE_GREETING);
    EXPECT_DOUBLE_EQ(c.percentile, 99);
    EXPECT_EQ(c.op, FAILIF_LT);
    EXPECT_DOUBLE_EQ(c.limit, 50000);
    c = parsed("connect.p999<=200ms");
    EXPECT_EQ(c.phase, LG_PHASE_CONNECT);
    EXPECT_DOUBLE_EQ(c.percentile, 99.9);
    EXPECT_EQ(c.op, FAILIF_LE);
    EXPECT_DOUBLE_EQ(parsed("p99.99<1s").percentile, 99.99);
    EXPECT_DOUBLE_EQ(parsed("p9999<1s").percentile, 99.99);
    EXPECT_DOUBLE_EQ(parsed("first_byte.max<2s").percentile, 100);
    EXPECT_DOUBLE_EQ(parsed("p50<250us").limit, 250);
    c = parsed("errors<0.1%");
    EXPECT_EQ(c.kind, FAILIF_ERRORS);
    EXPECT_TRUE(c.share);
    EXPECT_DOUBLE_EQ(c.limit, 0.1);
    c = parsed("rate>20000");
    EXPECT_EQ(c.kind, FAILIF_RATE);
    EXPECT_EQ(c.op, FAILIF_GT);
    c = parsed("unfinished<1");
    EXPECT_EQ(c.kind, FAILIF_UNFINISHED);
    EXPECT_FALSE(c.share);
}

TEST(FailIf, JudgesMeasuredValues)
{
    lg_stats s;
    ASSERT_EQ(lg_stats_init(&s), 0);
    for (int i = 1; i <= 100; i++)
        hist_record(s.phase[LG_PHASE_GREETING], static_cast<uint64_t>(i) * 1000); // 1..100 ms
    s.greetings = 999;
    s.errors[LG_ERR_RESET] = 1;
    failif_cond p99 = parsed("p99<50ms"), errors = parsed("errors<0.1%"), rate = parsed("rate>100");
    EXPECT_NEAR(failif_measure(&p99, &s, 0), 99000, 99000 / 1024 + 1); // the bucket's top
    EXPECT_FALSE(failif_holds(&p99, failif_measure(&p99, &s, 0)));
    EXPECT_DOUBLE_EQ(failif_measure(&errors, &s, 0), 0.1);
    EXPECT_FALSE(failif_holds(&errors, 0.1)) << "0.1% is not below 0.1%";
    failif_cond at_most = parsed("errors<=0.1%");
    EXPECT_TRUE(failif_holds(&at_most, 0.1));
    EXPECT_TRUE(failif_holds(&rate, failif_measure(&rate, &s, 150)));
    lg_stats_destroy(&s);
}

TEST(FailIf, BadConditionsAreRefusedWithTheGrammar)
{
    for (const char *bad : {"p99", "p99<50", "p99<fast", "latency<5ms", "p0<5ms", "p101<5ms",
                            "bogus.p99<5ms", "errors<5ms", "errors<150%", "rate>5%", "p99=5ms",
                            "tls.p99<5ms", "greeting_uncorrected.p99<5ms"}) {
        std::string err;
        lg_config cfg;
        EXPECT_EQ(parse_args({"--fail-if", bad, "h:1"}, &cfg, &err), -1) << bad;
        config_free(&cfg);
        EXPECT_NE(err.find(std::string("--fail-if '") + bad + "'"), std::string::npos) << err;
        bool phase_missing = std::string(bad).rfind("tls.", 0) == 0 ||
                             std::string(bad).rfind("greeting_u", 0) == 0;
        if (!phase_missing) { // a well-formed condition on a phase the run lacks says why
            EXPECT_NE(err.find("COND is [PHASE.]pNN<TIME"), std::string::npos) << err;
        }
    }
    std::string err;
    lg_config cfg;
    EXPECT_EQ(parse_args({"--tls", "--insecure", "--fail-if", "tls.p99<5ms", "h:1"}, &cfg, &err),
              0)
        << err;
    config_free(&cfg);
}

// A server that works 20 ms per connection: p50 above 15 ms, below 5 ms fails.
TEST(FailIfRun, PassesAndFailsOnAKnownDelay)
{
    TestProc server;
    int port = start_server(server, {"--work-us", "20000"});
    ASSERT_GT(port, 0);
    TestProc good, bad;
    EXPECT_EQ(loadgen(good, {"-n", "40", "-c", "8", "-q", "--fail-if", "p50>15ms", "--fail-if",
                             "errors<1%", "--fail-if", "unfinished<1", "--json", "-",
                             target(port)}),
              0)
        << good.err();
    EXPECT_NE(good.err().find("fail-if        p50>15ms"), std::string::npos) << good.err();
    EXPECT_NE(good.out().find("\"condition\": \"p50>15ms\""), std::string::npos) << good.out();
    EXPECT_EQ(good.out().find("\"pass\": false"), std::string::npos) << good.out();
    EXPECT_EQ(loadgen(bad, {"-n", "40", "-c", "8", "-q", "--fail-if", "p50<5ms", "--fail-if",
                            "rate>1", "--json", "-", target(port)}),
              3)
        << bad.err();
    EXPECT_NE(bad.err().find(": FAILED"), std::string::npos) << bad.err();
    EXPECT_NE(bad.err().find("1 of 2 --fail-if conditions not met"), std::string::npos)
        << bad.err();
    size_t cond = bad.out().find("\"condition\": \"p50<5ms\"");
    ASSERT_NE(cond, std::string::npos) << bad.out();
    EXPECT_GT(json_number(bad.out().substr(cond), {"measured"}), 15000);
    EXPECT_LT(bad.out().find("\"pass\": false", cond), bad.out().find("\"condition\": \"rate>1\""));
    stop_server(server);
}
