// test_valgrind.cc -- a short run of the server under valgrind: no leak, no memory error.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "testproc.h"

namespace {

bool have_valgrind()
{
    return access("/usr/bin/valgrind", X_OK) == 0;
}

void run_under_valgrind(const std::vector<std::string> &server_args, int clients)
{
    if (!have_valgrind())
        GTEST_SKIP() << "valgrind is not installed";
    std::vector<std::string> argv = {"/usr/bin/valgrind", "--quiet", "--leak-check=full",
                                     "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                                     "--trace-children=no", GREETER_SERVER_BIN, "-H", "127.0.0.1", "-p", "0"};
    argv.insert(argv.end(), server_args.begin(), server_args.end());
    TestProc server; // not start_server: valgrind runs the server
    ASSERT_TRUE(server.start(argv));
    int port = server.wait_listening(60000);
    ASSERT_GT(port, 0) << server.err();
    for (int i = 0; i < clients; i++)
        ASSERT_EQ(fetch_greeting(port, 20000), kGreeting) << i;
    std::string out = stop_server(server, 60000);
    EXPECT_EQ(summary_field(out, "greeted"), clients) << out;
}

TEST(Valgrind, PoolModelIsClean) { run_under_valgrind({"-w", "4"}, 50); }

TEST(Valgrind, EventModelWithCapsAndRulesIsClean)
{
    run_under_valgrind({"-m", "event", "--max-conns", "100", "--max-per-ip", "10", "--allow", "127.0.0.0/8"}, 50);
}

} // namespace
