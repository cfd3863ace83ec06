// test_signals.cc -- the stop signals reach no thread's handler: every thread of the server
// (and of its children) blocks SIGINT, SIGTERM and SIGQUIT, which wait, pending, for a
// signalfd; so no thread that ignores them, nor a sanitizer's deferral, can lose one.
#include <gtest/gtest.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "testproc.h"

namespace {

const int kStopSignals[] = {SIGINT, SIGTERM, SIGQUIT};

// The hexadecimal mask on the "field:" line of a /proc status file; ~0 if it is not there.
unsigned long long status_mask(const std::string &path, const std::string &field)
{
    std::ifstream status(path);
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field + ":", 0) == 0)
            return std::stoull(line.substr(field.size() + 1), nullptr, 16);
    return ~0ull;
}

// Every thread of pid, as /proc/pid/task/TID/status paths.
std::vector<std::string> thread_status_files(pid_t pid)
{
    std::vector<std::string> files;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR *tasks = opendir(dir.c_str());
    if (tasks == nullptr)
        return files;
    while (struct dirent *e = readdir(tasks))
        if (e->d_name[0] != '.')
            files.push_back(dir + "/" + e->d_name + "/status");
    closedir(tasks);
    return files;
}

// The children of pid, from the kernel's list.
std::vector<pid_t> children_of(pid_t pid)
{
    std::ifstream list("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> kids;
    for (pid_t kid; list >> kid;)
        kids.push_back(kid);
    return kids;
}

// What is wrong with pid's signal handling, or "" if every thread blocks the stop signals and
// none has a handler for them.
std::string stop_signal_faults(pid_t pid)
{
    std::string faults;
    std::string proc = "/proc/" + std::to_string(pid) + "/status";
    for (int sig : kStopSignals)
        if (status_mask(proc, "SigCgt") & (1ull << (sig - 1)))
            faults += std::to_string(pid) + " has a handler for " + strsignal(sig) + "; ";
    for (const std::string &file : thread_status_files(pid))
        for (int sig : kStopSignals)
            if (!(status_mask(file, "SigBlk") & (1ull << (sig - 1))))
                faults += file + " does not block " + strsignal(sig) + "; ";
    return faults;
}

class StopSignals : public ::testing::TestWithParam<std::string> {};

// While a client is being served (so the model's threads or children exist), then SIGTERM
// still drains: the client is greeted and the server exits 0.
TEST_P(StopSignals, AreBlockedInEveryThreadAndStillStopTheServer)
{
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--work-us", "300000"});
    ASSERT_GT(port, 0) << server.err();
    int client = connect_tcp(port);
    ASSERT_GE(client, 0);
    ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })) << "not accepted";
    if (GetParam() == "fork" || GetParam() == "prefork") {
        ASSERT_TRUE(wait_until([&] { return !children_of(server.pid()).empty(); }));
    }
    EXPECT_EQ(stop_signal_faults(server.pid()), "");
    for (pid_t kid : children_of(server.pid()))
        EXPECT_EQ(stop_signal_faults(kid), "") << "child " << kid;
    std::string out = stop_server(server);
    EXPECT_EQ(read_to_eof(client), kGreeting);
    close(client);
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, StopSignals,
                         ::testing::Values("pool", "thread", "event", "fork", "prefork"),
                         [](const auto &info) { return info.param; });

} // namespace
