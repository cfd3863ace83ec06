// test_admission_release.cc -- a connection a model turns away gives its admission place back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "testproc.h"

namespace {

struct Crowded {
    const char *model;
    std::vector<std::string> room_for_one; // the model's own limit: one served, little waiting
};

class TurnedAway : public ::testing::TestWithParam<Crowded> {};

// Each client comes from its own address, so --max-per-ip admits every one of the burst and
// the model itself turns most away. A place it kept would refuse that address for good.
TEST_P(TurnedAway, GivesTheAdmissionPlaceBack)
{
    const Crowded &c = GetParam();
    std::vector<std::string> args = {"-m", c.model, "--max-per-ip", "1", "--overload", "reject",
                                     "--work-us", "200000", "--busy-message", "busy"};
    args.insert(args.end(), c.room_for_one.begin(), c.room_for_one.end());
    TestProc server;
    int port = start_server(server, args);
    ASSERT_GT(port, 0) << server.err();
    const int n = 5;
    std::vector<std::string> addrs;
    for (int i = 0; i < n; i++)
        addrs.push_back("127.0.0." + std::to_string(10 + i));
    std::vector<int> fds;
    for (const std::string &a : addrs) {
        fds.push_back(connect_tcp(port, a.c_str()));
        ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })); // in turn
    }
    int busy = 0;
    for (int fd : fds)
        busy += read_to_eof(fd) == "busy";
    ASSERT_GT(busy, 0) << "the burst must overflow the model for this test to mean anything";
    // The burst is over: no cap holds any more, so every address is greeted again. A worker
    // (thread, child) still finishing its last client may turn one away for a moment; a place
    // never given back refuses that address for good.
    for (const std::string &a : addrs)
        EXPECT_TRUE(wait_until([&] { return read_to_eof(connect_tcp(port, a.c_str())) == kGreeting; },
                               5000))
            << a << " is still refused";
    std::string out = stop_server(server);
    EXPECT_GE(summary_field(out, "rejected"), busy) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2 * n - busy) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, TurnedAway,
                         ::testing::Values(Crowded{"pool", {"-w", "1", "-q", "1"}},
                                           Crowded{"thread", {"--max-threads", "1"}},
                                           Crowded{"fork", {"--max-children", "1"}}),
                         [](const auto &info) { return std::string(info.param.model); });

} // namespace
