// test_robust_server.cc -- the process models when their processes die: a killed child's
// connection is counted failed (the summary adds up), and children end with their parent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>


#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "clock.h"
#include "testproc.h"

namespace {

// A process's state letter from /proc (R, S, Z, ...), or 0 once it is gone.
char proc_state(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos)
        return 0;
    return line[line.rfind(')') + 2];
}

// A dead process is gone, or a zombie its new parent has not reaped yet: it serves no one.
bool dead(pid_t pid)
{
    char state = proc_state(pid);
    return state == 0 || state == 'Z' || state == 'X';
}

// The live children of pid (from the kernel's own list of them).
std::vector<pid_t> children_of(pid_t pid)
{
    std::ifstream list("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> kids;
    for (pid_t kid; list >> kid;)
        if (!dead(kid))
            kids.push_back(kid);
    return kids;
}

// Waits up to timeout_ms for pid to have at least n live children; returns them.
std::vector<pid_t> wait_children(pid_t pid, size_t n, int timeout_ms = 5000)
{
    uint64_t end = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    std::vector<pid_t> kids = children_of(pid);
    while (kids.size() < n && clock_now_ns() < end) {
        usleep(5000);
        kids = children_of(pid);
    }
    return kids;
}

// True once every pid is dead, within timeout_ms.
bool all_dead_within(const std::vector<pid_t> &pids, int timeout_ms)
{
    uint64_t end = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        bool all = true;
        for (pid_t p : pids)
            all = all && dead(p);
        if (all)
            return true;
        if (clock_now_ns() >= end)
            return false;
        usleep(5000);
    }
}

// Kills (SIGKILL) whichever of pids still runs: processes this test started, left behind by
// a failure, must not outlive it (they would also hold its output pipes open).
void kill_survivors(const std::vector<pid_t> &pids)
{
    for (pid_t p : pids)
        if (!dead(p))
            kill(p, SIGKILL);
}

// Sends sig and waits until the process has taken it (it is no longer pending), so that a
// second signal of the same kind is not merged into the first.
bool signal_taken(pid_t pid, int sig, int timeout_ms = 5000)
{
    kill(pid, sig);
    uint64_t end = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (clock_now_ns() < end) {
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        unsigned long long pending = ~0ull;
        while (std::getline(status, line))
            if (line.rfind("ShdPnd:", 0) == 0)
                pending = std::stoull(line.substr(7), nullptr, 16);
        if ((pending & (1ull << (sig - 1))) == 0)
            return true;
        usleep(2000);
    }
    return false;
}

// The connections the server's log says it counted as failed because their child died.
long logged_lost(const std::string &err)
{
    static const std::regex lost("\\((\\d+) connections? it held counted as failed\\)");
    long total = 0;
    for (std::sregex_iterator m(err.begin(), err.end(), lost), end; m != end; ++m)
        total += std::stol((*m)[1]);
    return total;
}

class ChildProcesses : public ::testing::TestWithParam<std::string> {
  protected:
    // A server of this model whose children each hold a client for work_us, logging each one.
    int start(TestProc &server, const std::string &work_us, std::vector<std::string> extra = {})
    {
        std::vector<std::string> args = {"-m", GetParam(), "--access-log", "--work-us", work_us};
        if (GetParam() == "prefork")
            args.insert(args.end(), {"-w", "2"});
        args.insert(args.end(), extra.begin(), extra.end());
        return start_server(server, args);
    }
};

// Two clients, each held by a child that is then killed: both are counted failed, exactly.
// Before, the summary said accepted=2 failed=0: two connections vanished from it.
TEST_P(ChildProcesses, KilledChildrenAreCountedFailed)
{
    TestProc server;
    int port = start(server, "3000000");
    ASSERT_GT(port, 0) << server.err();
    int a = connect_tcp(port), b = connect_tcp(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    // Each access-log line is written by the child that took the client, before its work.
    ASSERT_NE(server.wait_for_line("Got connection from", 5000), "");
    ASSERT_NE(server.wait_for_line("Got connection from", 5000), "");
    std::vector<pid_t> kids = wait_children(server.pid(), 2);
    ASSERT_EQ(kids.size(), 2u);
    for (pid_t kid : kids)
        kill(kid, SIGKILL);
    EXPECT_EQ(read_to_eof(a, 5000), "");
    EXPECT_EQ(read_to_eof(b, 5000), "");
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "accepted"), 2) << out;
    EXPECT_EQ(summary_field(out, "failed"), 2) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
    EXPECT_EQ(logged_lost(server.err()), 2) << server.err();
}

// A bounded load with children killed in the middle of it: whatever they held is counted
// failed, and the summary adds up. Each child holds its client for 300 ms of work, so a child
// is killed holding one: with 10 ms, a sanitized fork child spent most of its life exiting
// after its greeting (LeakSanitizer's exit takes 50-65 ms), and four kills could all miss.
TEST_P(ChildProcesses, SummaryAddsUpUnderLoadWithKilledChildren)
{
    TestProc server;
    int port = start(server, "300000");
    ASSERT_GT(port, 0) << server.err();
    TestProc load;
    // prefork's two workers serve two clients at a time; fork a child per client.
    std::string count = GetParam() == "prefork" ? "24" : "100";
    ASSERT_TRUE(load.start({GREETER_LOADGEN_BIN, "-n", count, "-c", "16", "--timeout", "5s",
                            "127.0.0.1:" + std::to_string(port)}));
    // The load first: a child killed before loadgen's first connection holds nothing (the
    // sanitized loadgen can take that long to start), and the respawned one neither.
    ASSERT_NE(server.wait_for_line("Got connection from", 5000), "") << server.err();
    int kills = 0;
    uint64_t end = clock_now_ns() + 10000000000ull;
    while (kills < 4 && clock_now_ns() < end) {
        std::vector<pid_t> kids = wait_children(server.pid(), 1, 1000);
        if (!kids.empty() && kill(kids[0], SIGKILL) == 0)
            kills++;
        usleep(150000); /* a prefork worker started in place of a killed one takes a client */
    }
    EXPECT_EQ(kills, 4);
    EXPECT_EQ(load.wait_exit(30000), 0) << load.err();
    std::string out = stop_server(server);
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
    long failed = summary_field(out, "failed");
    EXPECT_GE(failed, 1) << out << server.err();
    EXPECT_EQ(failed, logged_lost(server.err())) << out << server.err();
    EXPECT_EQ(summary_field(out, "greeted") + failed, summary_field(out, "accepted")) << out;
}

// After a second SIGTERM the parent exits at once; the children holding clients must not run
// on as orphans (before, they slept their work out and greeted with nobody counting).
TEST_P(ChildProcesses, DoubleSigtermEndsBusyChildren)
{
    TestProc server;
    int port = start(server, "5000000");
    ASSERT_GT(port, 0) << server.err();
    int client = connect_tcp(port);
    ASSERT_GE(client, 0);
    ASSERT_NE(server.wait_for_line("Got connection from", 5000), "");
    std::vector<pid_t> kids = wait_children(server.pid(), GetParam() == "prefork" ? 2 : 1);
    ASSERT_FALSE(kids.empty());
    ASSERT_TRUE(signal_taken(server.pid(), SIGTERM));
    server.send_signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(5000), 128 + SIGTERM);
    EXPECT_TRUE(all_dead_within(kids, 1000)) << "children ran on after their parent";
    kill_survivors(kids);
    uint64_t start = clock_now_ns();
    EXPECT_EQ(read_to_eof(client, 5000), "");
    EXPECT_LT(clock_now_ns() - start, 2000000000ull);
}

INSTANTIATE_TEST_SUITE_P(Models, ChildProcesses, ::testing::Values("fork", "prefork"));

// kill -9 of the prefork parent: its workers are gone within a second and nothing answers
// on the port (before, they were adopted by init and went on greeting, uncounted).
TEST(Orphans, PreforkWorkersDieWithTheParent)
{
    TestProc server;
    int port = start_server(server, {"-m", "prefork", "-w", "3"});
    ASSERT_GT(port, 0) << server.err();
    std::vector<pid_t> kids = wait_children(server.pid(), 3);
    ASSERT_EQ(kids.size(), 3u);
    server.send_signal(SIGKILL);
    EXPECT_EQ(server.wait_exit(5000), 128 + SIGKILL);
    EXPECT_TRUE(all_dead_within(kids, 1000)) << "prefork workers outlived their parent";
    kill_survivors(kids);
    std::string error;
    EXPECT_EQ(fetch_greeting(port, 1000, &error), "") << "a worker still greets on the port";
}

} // namespace
