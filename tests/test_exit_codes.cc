// test_exit_codes.cc -- the exit status of greeter-server, greeter-client and loadgen for each
// class: 0 success, 1 run or connection failure, 2 bad usage (a bad port or service name in
// the arguments included), 3 a loadgen --fail-if condition not met.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

int run(const std::vector<std::string> &argv, TestProc &proc)
{
    return run_command(proc, argv, 20000);
}

} // namespace

TEST(ExitCodes, BadUsageIsTwoInEveryTool)
{
    const std::vector<std::vector<std::string>> cases = {
        {GREETER_SERVER_BIN, "--bogus"},
        {GREETER_SERVER_BIN, "-p", "99999"},
        {GREETER_SERVER_BIN, "-p", "nosuchservice"},
        {GREETER_CLIENT_BIN, "--bogus"},
        {GREETER_CLIENT_BIN, "127.0.0.1", "99999"},
        {GREETER_CLIENT_BIN, "127.0.0.1", "nosuchservice"},
        {GREETER_LOADGEN_BIN, "--bogus"},
        {GREETER_LOADGEN_BIN, "127.0.0.1:99999"},
        {GREETER_LOADGEN_BIN, "127.0.0.1:nosuchservice"},
        {GREETER_LOADGEN_BIN, "[::1:80"},
    };
    for (const auto &argv : cases) {
        TestProc proc;
        EXPECT_EQ(run(argv, proc), 2) << argv[0] << " " << argv[1] << ": " << proc.err();
        EXPECT_FALSE(proc.err().empty()) << "says why";
    }
}

TEST(ExitCodes, RunFailureIsOneSuccessIsZero)
{
    TestProc server;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    std::string p = std::to_string(port);
    TestProc client_ok, loadgen_ok, client_refused, loadgen_refused, server_taken;
    EXPECT_EQ(run({GREETER_CLIENT_BIN, "127.0.0.1", p}, client_ok), 0) << client_ok.err();
    EXPECT_EQ(run({GREETER_LOADGEN_BIN, "-n", "5", "-c", "1", "-q", "127.0.0.1:" + p},
                  loadgen_ok),
              0)
        << loadgen_ok.err();
    // The port is taken: the second server cannot bind.
    EXPECT_EQ(run({GREETER_SERVER_BIN, "-H", "127.0.0.1", "-p", p, "--quiet"}, server_taken), 1)
        << server_taken.err();
    std::string closed = std::to_string(closed_port());
    EXPECT_EQ(run({GREETER_CLIENT_BIN, "127.0.0.1", closed}, client_refused), 1)
        << client_refused.err();
    EXPECT_EQ(run({GREETER_LOADGEN_BIN, "-n", "5", "-c", "1", "-q", "127.0.0.1:" + closed},
                  loadgen_refused),
              1)
        << loadgen_refused.err();
    stop_server(server);
}

TEST(ExitCodes, FailIfNotMetIsThree)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    EXPECT_EQ(run({GREETER_LOADGEN_BIN, "-n", "5", "-c", "1", "-q", "--fail-if", "rate>100000000",
                   "127.0.0.1:" + std::to_string(port)},
                  lg),
              3)
        << lg.err();
    stop_server(server);
}
