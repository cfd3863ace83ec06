// test_syscall_cost.cc -- the system calls a greeting costs the pool, counted by strace: none
// that the greeting path was measured to do without (results/conn-cost.md).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "testproc.h"

namespace {

const int kClients = 200;

bool have_strace() { return access("/usr/bin/strace", X_OK) == 0; }

// The PID of the process strace started (its only child).
pid_t traced_child(pid_t strace_pid)
{
    std::ifstream in("/proc/" + std::to_string(strace_pid) + "/task/" +
                     std::to_string(strace_pid) + "/children");
    pid_t child = -1;
    in >> child;
    return child;
}

// strace -c's table as {system call: calls} (columns chosen with -U calls,name).
std::map<std::string, long> read_counts(const std::string &path)
{
    std::map<std::string, long> calls;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        long n;
        std::string name;
        if (fields >> n >> name && name != "total")
            calls[name] = n;
    }
    return calls;
}

TEST(SyscallCost, PoolGreetingNeedsNoIoctlAndNoThreadClockPerConnection)
{
    if (!have_strace()) {
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0)
            FAIL() << "strace is not installed (tools/lib.sh installs it)";
        GTEST_SKIP() << "strace is not installed";
    }
    TempDir dir;
    std::string counts = dir.path("strace.txt");
    // LeakSanitizer cannot run under ptrace: in the ASan build the traced server would fail
    // its exit check (its leaks are checked by every other test there).
    std::vector<std::string> argv = {"/usr/bin/strace", "-E", "ASAN_OPTIONS=detect_leaks=0",
                                     "-f", "-qq", "-c", "-U", "calls,name",
                                     "-o", counts, "-e",
                                     "trace=ioctl,clock_gettime,getsockopt,sendto,close",
                                     GREETER_SERVER_BIN, "-H", "127.0.0.1", "-p", "0", "--quiet",
                                     "-w", "2"};
    TestProc server; // not start_server: strace runs the server
    ASSERT_TRUE(server.start(argv));
    int port = server.wait_listening(30000);
    ASSERT_GT(port, 0) << server.err();
    for (int i = 0; i < kClients; i++)
        ASSERT_EQ(fetch_greeting(port, 20000), kGreeting) << i;
    pid_t child = traced_child(server.pid());
    ASSERT_GT(child, 0);
    ASSERT_EQ(kill(child, SIGTERM), 0); // strace itself keeps stop signals blocked
    ASSERT_EQ(server.wait_exit(30000), 0) << server.err();
    EXPECT_EQ(summary_field(server.out(), "greeted"), kClients) << server.out();
    std::map<std::string, long> calls = read_counts(counts);
    EXPECT_EQ(calls["sendto"], kClients); // the count works: one greeting each
    // The close check: one getsockopt(TCP_INFO), not FIONREAD and SIOCOUTQ. (The one ioctl
    // is the listener's FIONBIO, at the start.)
    EXPECT_LE(calls["ioctl"], 1);
    EXPECT_LE(calls["getsockopt"], kClients + 10);
    // The thread CPU clock (a system call) is sampled, not read around each batch: these
    // sequential clients make a batch each.
    EXPECT_LT(calls["clock_gettime"], kClients / 4);
}

} // namespace
