// test_thread_names.cc -- every server thread carries a name that says its role, so that
// `top -H` and `ps -L` tell the accept thread, the workers and the waiting room apart.
#include <gtest/gtest.h>
#include <dirent.h>

#include <fstream>
#include <map>
#include <string>

#include "testproc.h"

namespace {

// How many threads of pid carry each name (/proc/PID/task/TID/comm).
std::map<std::string, int> thread_names(pid_t pid)
{
    std::map<std::string, int> names;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR *tasks = opendir(dir.c_str());
    if (tasks == nullptr)
        return names;
    while (struct dirent *e = readdir(tasks)) {
        if (e->d_name[0] == '.')
            continue;
        std::ifstream comm(dir + "/" + e->d_name + "/comm");
        std::string name;
        if (std::getline(comm, name))
            names[name]++;
    }
    closedir(tasks);
    return names;
}

std::string describe(const std::map<std::string, int> &names)
{
    std::string s;
    for (const auto &[name, count] : names)
        s += name + " x" + std::to_string(count) + "; ";
    return s;
}

TEST(ThreadNames, PoolNamesItsWorkersRoomControlAndMetricsThreads)
{
    TestProc server;
    int port = start_server(server, {"-m", "pool", "-w", "3", "--metrics", "127.0.0.1:0"});
    ASSERT_GT(port, 0) << server.err();
    std::map<std::string, int> want = {{"greeter-server", 1}, {"pool-worker", 3},
                                       {"waiting-room", 1}, {"control", 1}, {"metrics", 1}};
    std::map<std::string, int> names;
    // The workers start while the accept thread already listens: wait for all of them.
    EXPECT_TRUE(wait_until([&] { return (names = thread_names(server.pid())) == want; }))
        << describe(names);
    stop_server(server);
}

TEST(ThreadNames, EventNamesItsLoops)
{
    TestProc server;
    int port = start_server(server, {"-m", "event", "-w", "2"});
    ASSERT_GT(port, 0) << server.err();
    std::map<std::string, int> want = {{"greeter-server", 1}, {"event", 2}, {"control", 1}};
    std::map<std::string, int> names;
    EXPECT_TRUE(wait_until([&] { return (names = thread_names(server.pid())) == want; }))
        << describe(names);
    stop_server(server);
}

} // namespace
