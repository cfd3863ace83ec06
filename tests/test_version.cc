// test_version.cc -- the project's one version, as every place shows it: each tool's --version
// (listed in its --help) and the metrics page's greeter_build_info. The Debian package and
// the man pages are checked by tests/deploy-package.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testproc.h"

#ifndef GREETER_PROJECT_VERSION
#error "tests/deploy.cmake passes project(VERSION) as GREETER_PROJECT_VERSION"
#endif

namespace {

struct Tool {
    const char *bin;
    const char *name;
};

const Tool kTools[] = {{GREETER_SERVER_BIN, "greeter-server"},
                       {GREETER_CLIENT_BIN, "greeter-client"},
                       {GREETER_LOADGEN_BIN, "loadgen"}};

} // namespace

TEST(Version, EveryToolPrintsItAndExitsZero)
{
    for (const Tool &tool : kTools) {
        TestProc proc;
        EXPECT_EQ(run_command(proc, {tool.bin, "--version"}), 0) << tool.name << ": " << proc.err();
        EXPECT_EQ(proc.out(), std::string(tool.name) + " " + GREETER_PROJECT_VERSION + "\n");
        EXPECT_EQ(proc.err(), "") << tool.name;
    }
}

TEST(Version, ListedInEveryHelp)
{
    for (const Tool &tool : kTools) {
        TestProc proc;
        EXPECT_EQ(run_command(proc, {tool.bin, "--help"}), 0) << tool.name;
        EXPECT_NE(proc.out().find("--version"), std::string::npos) << tool.name;
    }
}

// As --help: the options before it are not acted on (the server binds nothing, the client and
// loadgen connect nowhere), and it still answers 0.
TEST(Version, WinsOverTheOtherOptions)
{
    const std::vector<std::vector<std::string>> cases = {
        {GREETER_SERVER_BIN, "-H", "127.0.0.1", "-p", "0", "--version"},
        {GREETER_CLIENT_BIN, "--version", "127.0.0.1", std::to_string(closed_port())},
        {GREETER_LOADGEN_BIN, "-n", "1", "--version", "127.0.0.1:" + std::to_string(closed_port())},
    };
    for (const auto &argv : cases) {
        TestProc proc;
        EXPECT_EQ(run_command(proc, argv, 5000), 0) << argv[0] << ": " << proc.err();
        EXPECT_NE(proc.out().find(GREETER_PROJECT_VERSION), std::string::npos) << proc.out();
        EXPECT_EQ(proc.out().find("listening on"), std::string::npos) << proc.out();
    }
}

TEST(Version, MetricsBuildInfoCarriesIt)
{
    TestProc server;
    int port = start_server(server, {"--metrics", "127.0.0.1:0"});
    ASSERT_GT(port, 0) << server.err();
    std::string line = server.wait_for_line("metrics on http://127.0.0.1:", 5000);
    ASSERT_FALSE(line.empty()) << server.err();
    int metrics_port = atoi(line.c_str() + line.rfind(':') + 1);
    std::string page = fetch_greeting(metrics_port, 5000, nullptr,
                                      "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    EXPECT_NE(page.find(std::string("greeter_build_info{version=\"") + GREETER_PROJECT_VERSION + "\""),
              std::string::npos)
        << page.substr(0, 600);
    stop_server(server);
}
