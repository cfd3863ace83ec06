// test_fork_cost.cc -- a fork-model child costs what the fork costs: it binds no library
// symbol of its own (each lazy binding searched every library's symbol table again, in every
// child: 0.6-1.6 ms of CPU per connection, results/conn-cost.md).
#include <gtest/gtest.h>
#include <dirent.h>
#include <stdlib.h>

#include <fstream>
#include <set>
#include <string>

#include "testproc.h"

namespace {

// The PIDs that wrote "binding" lines to the dynamic linker's debug files in dir (each
// line starts with the PID of the process that bound the symbol).
std::set<long> binding_pids(const std::string &dir)
{
    std::set<long> pids;
    DIR *d = opendir(dir.c_str());
    if (d == nullptr)
        return pids;
    while (struct dirent *e = readdir(d)) {
        std::ifstream in(dir + "/" + e->d_name);
        std::string line;
        while (std::getline(in, line)) {
            if (line.find("binding file") == std::string::npos)
                continue;
            pids.insert(strtol(line.c_str(), nullptr, 10));
        }
    }
    closedir(d);
    return pids;
}

TEST(ForkCost, ChildrenBindNoSymbolsOfTheirOwn)
{
    TempDir dir;
    // The server (and every child it forks) inherits these; the test's own processes
    // started later do not.
    setenv("LD_DEBUG", "bindings", 1);
    setenv("LD_DEBUG_OUTPUT", dir.path("ld").c_str(), 1);
    TestProc server;
    int port = start_server(server, {"-m", "fork"});
    unsetenv("LD_DEBUG");
    unsetenv("LD_DEBUG_OUTPUT");
    ASSERT_GT(port, 0) << server.err();
    long server_pid = server.pid(); // stop_server reaps it
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(fetch_greeting(port), kGreeting) << i;
    std::string summary = stop_server(server);
    ASSERT_EQ(summary_field(summary, "greeted"), 3) << summary;
    std::set<long> pids = binding_pids(dir.dir());
    ASSERT_EQ(pids.count(server_pid), 1u) << "no binding seen at all: is LD_DEBUG honoured?";
    pids.erase(server_pid);
    EXPECT_TRUE(pids.empty()) << pids.size() << " child(ren) bound symbols lazily, e.g. PID "
                              << *pids.begin();
}

} // namespace
