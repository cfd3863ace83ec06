// test_limits.cc -- connection caps and access rules as clients see them, in several models.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "testproc.h"

namespace {

class Caps : public ::testing::TestWithParam<std::string> {};

TEST_P(Caps, MaxConnsTurnsTheRestAwayWithTheBusyMessage)
{
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--max-conns", "2", "--work-us", "300000",
                              "--busy-message", "busy"});
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 5; i++) {
        fds.push_back(connect_tcp(port, "127.0.0.1"));
        ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })); // in turn
    }
    int greeted = 0, busy = 0;
    for (int fd : fds) {
        std::string got = read_to_eof(fd);
        greeted += got == kGreeting;
        busy += got == "busy";
    }
    EXPECT_EQ(greeted, 2);
    EXPECT_EQ(busy, 3);
    // The caps free up as connections close: a new client is served again.
    EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.1")), kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "rejected"), 3) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST_P(Caps, MaxPerIpCountsEachAddressApart)
{
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--max-per-ip", "1", "--work-us", "300000",
                              "--busy-message", ""});
    ASSERT_GT(port, 0) << server.err();
    int first = connect_tcp(port, "127.0.0.1");
    ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })); // first in
    int second = connect_tcp(port, "127.0.0.1");
    int other = connect_tcp(port, "127.0.0.2");
    std::string got_second = read_to_eof(second), got_first = read_to_eof(first);
    if (GetParam() == std::string("prefork")) {
        // Two children accept from one listener and admit in their own time: the child that
        // took the first client may be preempted between its accept and its admission while
        // another admits the second. One of the two is turned away, either one.
        EXPECT_TRUE((got_first == kGreeting && got_second.empty()) ||
                    (got_first.empty() && got_second == kGreeting))
            << "first '" << got_first << "', second '" << got_second << "'";
    } else {
        EXPECT_EQ(got_second, ""); // silently closed: --busy-message ''
        EXPECT_EQ(got_first, kGreeting);
    }
    EXPECT_EQ(read_to_eof(other), kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "rejected"), 1) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, Caps, ::testing::Values("pool", "fork", "prefork", "thread", "event"),
                         [](const auto &info) { return info.param; });

TEST(Access, AllowAndDenyRules)
{
    for (std::string model : {"pool", "event"}) {
        TestProc server;
        int port = start_server(server, {"-m", model, "--allow", "127.0.0.0/8", "--deny", "127.0.0.1"});
        ASSERT_GT(port, 0) << server.err();
        EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.1")), "") << model;
        EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.3")), kGreeting) << model;
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "denied"), 1) << out;
        EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
        EXPECT_EQ(summary_unaccounted(out), 0) << out;
    }
}

TEST(Access, AllowListShutsOutEveryoneElse)
{
    TestProc server;
    int port = start_server(server, {"--allow", "127.0.0.2/32", "--allow", "::1"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.1")), "");
    EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.2")), kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "denied"), 1) << out;
}

TEST(Access, DeniedDatagramsGetNoReply)
{
    TestProc server;
    int port = start_server(server, {"--udp", "--deny", "127.0.0.1"});
    ASSERT_GT(port, 0) << server.err();
    TestProc c;
    EXPECT_EQ(run_client(c, {"--udp", "-t", "200ms", "-r", "0", "127.0.0.1",
                              std::to_string(port)}),
              1);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "denied"), 1) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 0) << out;
}

// Reads "Uid:" or "Gid:" (the real id) and "Groups:" of a running process.
std::string proc_status_line(pid_t pid, const std::string &key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0)
            return line;
    return "";
}

TEST(Privileges, DropsToTheUserAndClearsGroups)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to drop privileges";
    TestProc dropped;
    int port = start_server(dropped, {"--user", "nobody"});
    ASSERT_GT(port, 0) << dropped.err();
    EXPECT_EQ(proc_status_line(dropped.pid(), "Uid:"), "Uid:\t65534\t65534\t65534\t65534");
    EXPECT_EQ(proc_status_line(dropped.pid(), "Groups:").find_first_of("0123456789"), std::string::npos);
    EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.1")), kGreeting);
    stop_server(dropped);
}

// After --user nothing can gain privileges back: every thread has no_new_privs set and an
// empty capability bounding set (an execve of a set-user-ID or file-capability binary, or
// the upgrade's successor, gets nothing).
TEST(Privileges, DroppedServerCanGainNoPrivilegeBack)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to drop privileges";
    TestProc dropped;
    int port = start_server(dropped, {"--user", "nobody", "-w", "2", "--metrics", "127.0.0.1:0"});
    ASSERT_GT(port, 0) << dropped.err();
    std::string tasks = "/proc/" + std::to_string(dropped.pid()) + "/task";
    auto count_tasks = [&] {
        int n = 0;
        for (const auto &task : std::filesystem::directory_iterator(tasks))
            n += !task.path().empty();
        return n;
    };
    // The workers start after "listening on": main, metrics and two workers at least.
    EXPECT_TRUE(wait_until([&] { return count_tasks() >= 4; }, 5000));
    int seen = 0;
    for (const auto &task : std::filesystem::directory_iterator(tasks)) {
        pid_t tid = (pid_t)std::stol(task.path().filename().string());
        std::ifstream in(task.path() / "status");
        std::string line, nnp, bound;
        while (std::getline(in, line)) {
            if (line.rfind("NoNewPrivs:", 0) == 0)
                nnp = line;
            if (line.rfind("CapBnd:", 0) == 0)
                bound = line;
        }
        EXPECT_EQ(nnp, "NoNewPrivs:\t1") << "thread " << tid;
        EXPECT_EQ(bound, "CapBnd:\t0000000000000000") << "thread " << tid;
        seen++;
    }
    EXPECT_GE(seen, 4) << "main, metrics, two workers at least";
    EXPECT_EQ(read_to_eof(connect_tcp(port, "127.0.0.1")), kGreeting);
    stop_server(dropped);
}

TEST(Privileges, UnknownUserIsFatal)
{
    TestProc p;
    EXPECT_EQ(run_command(p, {GREETER_SERVER_BIN, "-p", "0", "--user", "no-such-user-here"}), 1);
    EXPECT_NE(p.err().find("--user no-such-user-here: no such user"), std::string::npos) << p.err();
}

} // namespace
