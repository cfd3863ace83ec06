// test_rate_limit.cc -- --rate-per-ip: what a flooding address and its neighbours see from
// every model, over TCP and UDP (the bucket itself: test_admission).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

class RatePerIp : public ::testing::TestWithParam<std::string> {};

// The case: a burst of 300 from one address at 50/s is over at once (nothing is
// queued) with about 50 greeted, the rest told busy; another address is greeted meanwhile.
TEST_P(RatePerIp, BurstFromOneAddressIsCutOthersUnaffected)
{
    TestProc server, lg;
    int port = start_server(server, {"-m", GetParam(), "--rate-per-ip", "50/s"});
    ASSERT_GT(port, 0) << server.err();
    auto start = std::chrono::steady_clock::now();
    loadgen(lg, {"-n", "300", "-c", "50", "-q", "--expect", kGreeting, "--source", "127.0.0.1",
                 "--json", "-", "127.0.0.1:" + std::to_string(port)});
    double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double greeted = json_number(lg.out(), {"greetings"});
    // 50 at once, and one more per 20 ms the burst lasts (0.03-0.1 s here; fork, which
    // forks for each greeting, 1.4 s).
    EXPECT_GE(greeted, 50) << lg.out();
    EXPECT_LE(greeted, 50 + 50 * took_s + 5) << lg.out() << took_s;
    EXPECT_EQ(json_number(lg.out(), {"errors", "bad_greeting"}), 300 - greeted) << lg.out();
    // Queued rather than turned away, the other 250 would take 5 s at 50/s.
    EXPECT_LT(took_s, 5.0);
    // 127.0.0.1's bucket is empty; 127.0.0.2's is full.
    EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.2"), 5000), kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "accepted"), 301) << out;
    EXPECT_EQ(summary_field(out, "greeted"), greeted + 1) << out;
    EXPECT_EQ(summary_field(out, "rate_limited"), 300 - greeted) << out;
    EXPECT_EQ(summary_field(out, "rejected"), 300 - greeted) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, RatePerIp,
                         ::testing::Values("pool", "event", "fork", "prefork", "thread",
                                           "iterative"),
                         [](const auto &info) { return info.param; });

// Over the rate, a client is told why (--busy-message) at once, or closed without a word
// with --busy-message ''.
TEST(RatePerIpTcp, TurnedAwayWithTheBusyMessage)
{
    for (const char *message : {"go away\n", ""}) {
        TestProc server;
        int port = start_server(server, {"--rate-per-ip", "1/m", "--busy-message", message});
        ASSERT_GT(port, 0) << server.err();
        EXPECT_EQ(read_to_eof(connect_tcp(port), 5000), kGreeting);
        EXPECT_EQ(read_to_eof(connect_tcp(port), 5000), message);
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "rate_limited"), 1) << out;
    }
}

// Behind a balancer the client's address is the PROXY header's: each gets its own bucket.
TEST(RatePerIpTcp, ThePROXYHeadersAddressIsTheOneCounted)
{
    for (const char *model : {"pool", "event", "iterative"}) {
        TestProc server;
        int port = start_server(server, {"-m", model, "--proxy-protocol", "--rate-per-ip", "1/m"});
        ASSERT_GT(port, 0) << server.err();
        auto via_proxy = [&](const std::string &client) {
            int fd = connect_tcp(port);
            std::string header = "PROXY TCP4 " + client + " 198.18.0.1 40000 443\r\n";
            EXPECT_EQ(send(fd, header.data(), header.size(), MSG_NOSIGNAL), (ssize_t)header.size());
            return read_to_eof(fd, 5000);
        };
        EXPECT_EQ(via_proxy("192.0.2.7"), kGreeting) << model;
        EXPECT_EQ(via_proxy("192.0.2.7").rfind("Server busy", 0), 0u) << model;
        EXPECT_EQ(via_proxy("192.0.2.8"), kGreeting) << model;
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "rate_limited"), 1) << model << ": " << out;
    }
}

// Datagrams from 127.0.0.1 past its bucket go unanswered; 127.0.0.2 is answered.
TEST(RatePerIpUdp, DatagramsOverTheRateAreDropped)
{
    TestProc server;
    int port = start_server(server, {"--udp", "--rate-per-ip", "5/s"});
    ASSERT_GT(port, 0) << server.err();
    auto from = [&](const char *source, int n) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in local = {}, to = {};
        local.sin_family = to.sin_family = AF_INET;
        inet_pton(AF_INET, source, &local.sin_addr);
        to.sin_port = htons((uint16_t)port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof(local)), 0);
        for (int i = 0; i < n; i++)
            sendto(fd, "greeting?", 9, 0, reinterpret_cast<sockaddr *>(&to), sizeof(to));
        int replies = 0;
        char buf[256];
        struct pollfd pfd = {fd, POLLIN, 0};
        while (poll(&pfd, 1, 300) == 1 && recv(fd, buf, sizeof(buf), 0) > 0)
            replies++;
        close(fd);
        return replies;
    };
    EXPECT_EQ(from("127.0.0.1", 20), 5);
    EXPECT_EQ(from("127.0.0.2", 3), 3);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "rate_limited"), 15) << out;
    EXPECT_EQ(summary_field(out, "rejected"), 15) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST(RatePerIpUsage, BadValuesAndUnixAreRefused)
{
    for (const auto &[args, message] :
         std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--rate-per-ip", "0"}, "--rate-per-ip: 0 is out of range (1-1000000)"},
             {{"--rate-per-ip", "50/h"}, "--rate-per-ip: '50/h': the unit is /s or /m"},
             {{"--rate-per-ip", "x/s"}, "--rate-per-ip: 'x' is not a whole number"},
             {{"--rate-per-ip", "5", "--unix", "/tmp/none.sock"},
              "--rate-per-ip does not apply to a UNIX socket"}}) {
        TestProc server;
        std::vector<std::string> argv = {GREETER_SERVER_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        EXPECT_EQ(run_command(server, argv), 2) << args[1];
        EXPECT_NE(server.err().find(message), std::string::npos) << server.err();
    }
}

} // namespace
