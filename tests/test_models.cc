// test_models.cc -- every concurrency model under the same checks: exact counts, drain on
// SIGTERM, the work knob, and no zombie or orphan processes.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testproc.h"

namespace {

// A server of the given model on 127.0.0.1, port 0; its port or -1.
int start_model(TestProc &server, const std::string &model, std::vector<std::string> extra = {})
{
    extra.insert(extra.begin(), {"-m", model});
    return start_server(server, extra);
}

// Processes whose parent is ppid, with their state letter (Z for a zombie).
std::vector<std::pair<int, char>> children_of(int ppid)
{
    std::vector<std::pair<int, char>> found;
    DIR *proc = opendir("/proc");
    while (struct dirent *e = readdir(proc)) {
        int pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            continue;
        size_t close_paren = line.rfind(')');
        if (close_paren == std::string::npos)
            continue;
        std::istringstream rest(line.substr(close_paren + 2));
        char state;
        int parent;
        rest >> state >> parent;
        if (parent == ppid)
            found.emplace_back(pid, state);
    }
    closedir(proc);
    return found;
}

class Models : public ::testing::TestWithParam<std::string> {};

TEST_P(Models, FiveHundredConcurrentClientsExactCount)
{
    TestProc server;
    int port = start_model(server, GetParam());
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 500; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        fds.push_back(fd);
    }
    int greeted = 0;
    for (int fd : fds)
        greeted += read_to_eof(fd) == kGreeting;
    EXPECT_EQ(greeted, 500);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "accepted"), 500) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 500) << out;
    EXPECT_EQ(summary_field(out, "failed"), 0) << out;
}

// SIGTERM while clients are being served: whatever was accepted is greeted, the summary adds
// up, and it agrees with what the clients saw.
TEST_P(Models, SigtermDrainsAndTheSummaryAddsUp)
{
    TestProc server;
    int port = start_model(server, GetParam(), {"--work-us", "200000"});
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 20; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        fds.push_back(fd);
    }
    // Models that accept eagerly hold all 20; the one-at-a-time models at least one.
    bool eager = GetParam() == "pool" || GetParam() == "thread" || GetParam() == "fork" ||
                 GetParam() == "event";
    ASSERT_TRUE(wait_until([&] {
        int waiting = accept_backlog(port);
        return eager ? waiting == 0 : waiting < 20;
    })) << "the server has not accepted";
    server.send_signal(SIGTERM);
    int greeted = 0;
    for (int fd : fds)
        greeted += read_to_eof(fd) == kGreeting;
    ASSERT_EQ(server.wait_exit(20000), 0) << server.err();
    const std::string &out = server.out();
    long accepted = summary_field(out, "accepted");
    EXPECT_EQ(summary_field(out, "greeted"), greeted) << out;
    EXPECT_EQ(accepted, summary_field(out, "greeted") + summary_field(out, "rejected") +
                            summary_field(out, "failed"))
        << out;
    EXPECT_GE(greeted, eager ? 20 : 1) << out;
}

TEST_P(Models, SleepWorkDelaysTheGreetingByAboutWhatItSays)
{
    TestProc server;
    int port = start_model(server, GetParam(), {"--work-us", "100000"});
    ASSERT_GT(port, 0) << server.err();
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                    start)
                  .count();
    EXPECT_GE(ms, 100);
    EXPECT_LT(ms, 2000); // generous: shared machines stall, but not by seconds
    stop_server(server);
}

TEST_P(Models, LeavesNoZombieOrOrphanBehind)
{
    // Orphans of the server get re-parented to us, so we can see any it leaves behind.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    TestProc server;
    int port = start_model(server, GetParam());
    ASSERT_GT(port, 0) << server.err();
    for (int i = 0; i < 20; i++)
        EXPECT_EQ(fetch_greeting(port), kGreeting);
    auto no_zombie = [&] {
        for (auto [pid, state] : children_of(server.pid()))
            if (state == 'Z')
                return false;
        return true;
    };
    EXPECT_TRUE(wait_until(no_zombie, 5000)) << "zombie children while idle, past the reaping interval";
    stop_server(server, 10000);
    EXPECT_TRUE(wait_until([] { return children_of(getpid()).empty(); }, 5000))
        << "the server left processes behind";
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

// A plain start (no SIGHUP, nothing reloadable) logs no reload and no warning, however long
// it serves: prefork once took its own children for retiring ones and warned, 26 ms after
// start, that "0 of 8 children serve the new settings".
TEST_P(Models, APlainStartLogsNoReloadAndNoWarning)
{
    TestProc server;
    int port = start_server(server, {"-m", GetParam()}, /*quiet=*/false);
    ASSERT_GT(port, 0) << server.err();
    for (int i = 0; i < 20; i++)
        EXPECT_EQ(fetch_greeting(port), kGreeting);
    // Several of prefork's supervision passes (10 ms apart) while idle.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "greeted"), 20) << summary;
    for (const char *word : {"warning:", "reload", "replacing", "new settings"})
        EXPECT_EQ(server.err().find(word), std::string::npos) << word << " in:\n" << server.err();
}

INSTANTIATE_TEST_SUITE_P(AllModels, Models,
                         ::testing::Values("pool", "fork", "prefork", "thread", "iterative", "event"),
                         [](const auto &info) { return info.param; });

TEST(ModelOptions, SpinWorkDelaysTheGreeting)
{
    TestProc server;
    int port = start_model(server, "pool", {"--work-us", "50000", "--work-kind", "spin"});
    ASSERT_GT(port, 0) << server.err();
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                    start)
                  .count();
    EXPECT_GE(ms, 50);
    stop_server(server);
}

// A prefork child that dies is replaced, and the server keeps greeting.
TEST(ModelOptions, PreforkRestartsADeadChild)
{
    TestProc server;
    int port = start_model(server, "prefork", {"-w", "2"});
    ASSERT_GT(port, 0) << server.err();
    // "listening on" comes before the children are forked.
    ASSERT_TRUE(wait_until([&] { return children_of(server.pid()).size() == 2; }));
    int victim = children_of(server.pid())[0].first;
    kill(victim, SIGKILL);
    auto replaced = [&] {
        auto kids = children_of(server.pid());
        return kids.size() == 2 && kids[0].first != victim && kids[1].first != victim;
    };
    EXPECT_TRUE(wait_until(replaced)) << "the dead child was not replaced";
    for (int i = 0; i < 10; i++)
        EXPECT_EQ(fetch_greeting(port), kGreeting);
    stop_server(server);
    EXPECT_NE(server.err().find("died of signal 9: starting another"), std::string::npos)
        << server.err();
}

// With the cap reached and --overload reject, fork and thread turn clients away and count it.
TEST(ModelOptions, CapsWithRejectTurnClientsAway)
{
    for (std::string model : {"fork", "thread"}) {
        TestProc server;
        std::string cap = model == "fork" ? "--max-children" : "--max-threads";
        int port = start_model(server, model, {cap, "1", "--overload", "reject", "--work-us",
                                               "300000", "--busy-message", "busy"});
        ASSERT_GT(port, 0) << server.err();
        std::vector<int> fds;
        for (int i = 0; i < 4; i++) {
            fds.push_back(connect_tcp(port));
            ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })); // in turn
        }
        int greeted = 0, busy = 0;
        for (int fd : fds) {
            std::string got = read_to_eof(fd);
            greeted += got == kGreeting;
            busy += got == "busy";
        }
        EXPECT_EQ(greeted, 1) << model;
        EXPECT_EQ(busy, 3) << model;
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "rejected"), 3) << out;
    }
}

} // namespace
