// test_models.cc -- every concurrency model under the same checks: exact counts, drain on
// SIGTERM, refused options, the work knob, and no zombie or orphan processes.
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

const std::string kGreeting = "Thank you for connecting";

int start_model(TestProc &server, const std::string &model, std::vector<std::string> extra = {})
{
    std::vector<std::string> argv = {GREETER_SERVER_BIN, "-m", model, "-H", "127.0.0.1", "-p", "0",
                                     "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!server.start(argv))
        return -1;
    return server.wait_listening();
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
    server.send_signal(SIGTERM);
    ASSERT_EQ(server.wait_exit(20000), 0) << server.err();
    EXPECT_EQ(summary_field(server.out(), "accepted"), 500) << server.out();
    EXPECT_EQ(summary_field(server.out(), "greeted"), 500) << server.out();
    EXPECT_EQ(summary_field(server.out(), "failed"), 0) << server.out();
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
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // all busy in their work
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
    // Models that accept eagerly hold all 20; the one-at-a-time models at least one.
    bool eager = GetParam() == "pool" || GetParam() == "thread" || GetParam() == "fork" ||
                 GetParam() == "event";
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
    server.send_signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(10000), 0);
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
    std::this_thread::sleep_for(std::chrono::milliseconds(400)); // past the reaping interval
    for (auto [pid, state] : children_of(server.pid()))
        EXPECT_NE(state, 'Z') << "zombie child " << pid << " while idle";
    server.send_signal(SIGTERM);
    ASSERT_EQ(server.wait_exit(10000), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(children_of(getpid()).empty()) << "the server left processes behind";
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

INSTANTIATE_TEST_SUITE_P(AllModels, Models,
                         ::testing::Values("pool", "fork", "prefork", "thread", "iterative", "event"),
                         [](const auto &info) { return info.param; });

TEST(ModelOptions, OptionsThatDoNotApplyAreRefused)
{
    const std::vector<std::vector<std::string>> refused = {
        {"-m", "fork", "-q", "10"},          {"-m", "fork", "-w", "4"},
        {"-m", "iterative", "-w", "4"},      {"-m", "event", "--overload", "reject"},
        {"-m", "prefork", "--max-threads", "5"}, {"-m", "pool", "--max-children", "5"},
        {"-m", "thread", "--queue", "5"},
    };
    for (const auto &args : refused) {
        std::vector<std::string> argv = {GREETER_SERVER_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        TestProc p;
        EXPECT_EQ(run_command(p, argv), 2) << args[1] << " " << args[2];
        EXPECT_NE(p.err().find("does not apply to the " + args[1] + " model"), std::string::npos)
            << p.err();
    }
}

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
    server.send_signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(10000), 0);
}

// A prefork child that dies is replaced, and the server keeps greeting.
TEST(ModelOptions, PreforkRestartsADeadChild)
{
    TestProc server;
    int port = start_model(server, "prefork", {"-w", "2"});
    ASSERT_GT(port, 0) << server.err();
    // "listening on" comes before the children are forked: give them a moment.
    auto kids = children_of(server.pid());
    for (int i = 0; i < 100 && kids.size() < 2; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        kids = children_of(server.pid());
    }
    ASSERT_EQ(kids.size(), 2u);
    kill(kids[0].first, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(children_of(server.pid()).size(), 2u);
    for (int i = 0; i < 10; i++)
        EXPECT_EQ(fetch_greeting(port), kGreeting);
    server.send_signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(10000), 0);
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
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        int greeted = 0, busy = 0;
        for (int fd : fds) {
            std::string got = read_to_eof(fd);
            greeted += got == kGreeting;
            busy += got == "busy";
        }
        EXPECT_EQ(greeted, 1) << model;
        EXPECT_EQ(busy, 3) << model;
        server.send_signal(SIGTERM);
        ASSERT_EQ(server.wait_exit(10000), 0);
        EXPECT_EQ(summary_field(server.out(), "rejected"), 3) << server.out();
    }
}

} // namespace
