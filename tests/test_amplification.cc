// test_amplification.cc -- UDP anti-amplification: no reply larger than --udp-amplification
// times the request, counted as too_small; the start-up warning; greeter-client and loadgen
// ask with a request large enough for it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

// Sends each payload from a socket of its own (a reply cannot be taken for another's) and
// returns what came back for each: the reply, or "" when none came within timeout_ms.
std::vector<std::string> ask_each(int port, const std::vector<std::string> &payloads,
                                  int timeout_ms = 300)
{
    std::vector<std::string> replies;
    struct sockaddr_in to = {};
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (const std::string &p : payloads) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        std::string reply;
        if (fd >= 0 && sendto(fd, p.data(), p.size(), 0, reinterpret_cast<sockaddr *>(&to),
                              sizeof(to)) == (ssize_t)p.size()) {
            struct pollfd pfd = {fd, POLLIN, 0};
            char buf[70000];
            if (poll(&pfd, 1, timeout_ms) == 1) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n > 0)
                    reply.assign(buf, (size_t)n);
            }
        }
        if (fd >= 0)
            close(fd);
        replies.push_back(reply);
    }
    return replies;
}

class Amplification : public ::testing::TestWithParam<std::string> {};

// The figures: the 9-byte "greeting?" gets the 24-byte greeting (24 <= 27); empty,
// 1- and 7-byte datagrams (24 > 21) get nothing, and are counted rejected and too_small.
TEST_P(Amplification, NoReplyLargerThanThreeTimesTheRequest)
{
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--udp"});
    ASSERT_GT(port, 0) << server.err();
    std::vector<std::string> replies =
        ask_each(port, {"", "x", "1234567", "12345678", "greeting?"});
    EXPECT_EQ(replies[0], "");
    EXPECT_EQ(replies[1], "");
    EXPECT_EQ(replies[2], "");
    EXPECT_EQ(replies[3], kGreeting); // 8 bytes: exactly 3 x 8 = 24
    EXPECT_EQ(replies[4], kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "accepted"), 5) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
    EXPECT_EQ(summary_field(out, "rejected"), 3) << out;
    EXPECT_EQ(summary_field(out, "too_small"), 3) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, Amplification, ::testing::Values("pool", "iterative", "event"),
                         [](const auto &info) { return info.param; });

// The factor is the user's: 1 wants a request as large as the greeting, 0 answers anything.
TEST(AmplificationFactor, IsTheUsersOnTrustedNetworks)
{
    TestProc strict, off;
    int strict_port = start_server(strict, {"--udp", "--udp-amplification", "1"});
    int off_port = start_server(off, {"--udp", "--udp-amplification", "0"});
    ASSERT_GT(strict_port, 0) << strict.err();
    ASSERT_GT(off_port, 0) << off.err();
    std::string just_enough(kGreeting.size(), 'x'), one_short(kGreeting.size() - 1, 'x');
    std::vector<std::string> r = ask_each(strict_port, {one_short, just_enough});
    EXPECT_EQ(r[0], "");
    EXPECT_EQ(r[1], kGreeting);
    r = ask_each(off_port, {"", "x"});
    EXPECT_EQ(r[0], kGreeting);
    EXPECT_EQ(r[1], kGreeting);
    std::string out = stop_server(strict);
    EXPECT_EQ(summary_field(out, "too_small"), 1) << out;
    out = stop_server(off);
    EXPECT_EQ(summary_field(out, "too_small"), 0) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
}

// A greeting that no datagram up to --udp-max may get is said at start, with the way out;
// the defaults say nothing.
TEST(AmplificationFactor, WarnsWhenNoRequestCanBeAnswered)
{
    TestProc quiet, loud;
    ASSERT_GT(start_server(quiet, {"--udp"}), 0) << quiet.err();
    ASSERT_GT(start_server(loud, {"--udp", "--udp-max", "7"}), 0) << loud.err();
    stop_server(quiet);
    stop_server(loud);
    EXPECT_EQ(quiet.err().find("warning"), std::string::npos) << quiet.err();
    EXPECT_NE(loud.err().find("the greeting (24 bytes) is more than 3 times the largest request "
                              "answered (--udp-max 7), so no datagram will be answered"),
              std::string::npos)
        << loud.err();
    EXPECT_NE(loud.err().find("raise --udp-max to at least 8"), std::string::npos) << loud.err();
}

TEST(AmplificationFactor, BadValuesAreUsageErrors)
{
    TestProc server;
    EXPECT_EQ(run_command(server, {GREETER_SERVER_BIN, "--udp", "--udp-amplification", "-1"}), 2);
    EXPECT_NE(server.err().find("--udp-amplification: -1 is out of range (0-65535)"),
              std::string::npos)
        << server.err();
}

// greeter-client pads its request (512 bytes by default), so a 1,000-byte greeting still
// comes back; cut to 9 bytes it does not, and --request-size above --udp-max is dropped.
TEST(AmplificationClients, ClientAsksLargeEnough)
{
    TestProc server;
    std::string greeting(1000, 'g');
    int port = start_server(server, {"--udp", "--greeting", greeting});
    ASSERT_GT(port, 0) << server.err();
    TestProc ok, small, big;
    EXPECT_EQ(run_client(ok, {"--udp", "127.0.0.1", std::to_string(port)}), 0) << ok.err();
    EXPECT_EQ(ok.out(), greeting + "\n");
    EXPECT_EQ(run_client(small, {"--udp", "-t", "200ms", "-r", "0", "--request-size", "9",
                                 "127.0.0.1", std::to_string(port)}),
              1);
    EXPECT_EQ(run_client(big, {"--udp", "-t", "200ms", "-r", "0", "--request-size", "1025",
                               "127.0.0.1", std::to_string(port)}),
              1);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
    EXPECT_EQ(summary_field(out, "too_small"), 1) << out;
    EXPECT_EQ(summary_field(out, "rejected"), 2) << out; // too small, and over --udp-max
}

TEST(AmplificationClients, LoadgenAsksLargeEnough)
{
    TestProc server, lg;
    std::string greeting(1000, 'g');
    int port = start_server(server, {"--udp", "--greeting", greeting});
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(loadgen(lg, {"--udp", "-n", "200", "-c", "4", "-q", "--json", "-",
                           "127.0.0.1:" + std::to_string(port)}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 200) << lg.out();
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), 200) << out;
    EXPECT_EQ(summary_field(out, "too_small"), 0) << out;
}

} // namespace
