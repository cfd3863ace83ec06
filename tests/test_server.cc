// test_server.cc -- greeter-server (pool model) as real clients see it, started on port 0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "testproc.h"

namespace {

TEST(Server, ClientPrintsExactlyTheGreeting)
{
    TestProc server;
    int port = start_server(server);
    ASSERT_GT(port, 0) << server.err();
    TestProc client;
    EXPECT_EQ(run_client(client, {"127.0.0.1", std::to_string(port)}), 0)
        << client.err();
    EXPECT_EQ(client.out(), kGreeting + "\n");
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "greeted"), 1) << summary;
    EXPECT_EQ(summary_unaccounted(summary), 0) << summary;
}

TEST(Server, CustomGreetingAndGreetingFile)
{
    TestProc server;
    int port = start_server(server, {"--greeting", "Hello, reader"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(fetch_greeting(port), "Hello, reader");
    stop_server(server);

    TempDir dir;
    std::string path = dir.path("greeting.txt");
    std::ofstream(path) << "line one\nline two\n";
    TestProc server2;
    port = start_server(server2, {"--greeting-file", path});
    ASSERT_GT(port, 0) << server2.err();
    EXPECT_EQ(fetch_greeting(port), "line one\nline two\n");
    stop_server(server2);
}

TEST(Server, FiveHundredConcurrentClientsAllGreeted)
{
    TestProc server;
    int port = start_server(server);
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 500; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0) << "client " << i;
        fds.push_back(fd);
    }
    int greeted = 0;
    for (int fd : fds)
        greeted += read_to_eof(fd) == kGreeting;
    EXPECT_EQ(greeted, 500);
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "accepted"), 500) << summary;
    EXPECT_EQ(summary_field(summary, "greeted"), 500) << summary;
    EXPECT_EQ(summary_unaccounted(summary), 0) << summary;
}

TEST(Server, ClientThatSendsFirstStillGetsTheWholeGreeting)
{
    // A greeting far larger than the socket buffers, so a reset at close would cut it short.
    std::string big(512 * 1024, 'g');
    TempDir dir;
    std::string path = dir.path("big-greeting.txt");
    std::ofstream(path, std::ios::binary) << big;
    TestProc server;
    int port = start_server(server, {"--greeting-file", path});
    ASSERT_GT(port, 0) << server.err();
    for (int round = 0; round < 5; round++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        std::string junk(8192, 'x');
        ASSERT_EQ(send(fd, junk.data(), junk.size(), MSG_NOSIGNAL), (ssize_t)junk.size());
        // The greeting is on its way while our bytes sit unread at the server.
        struct pollfd readable = {fd, POLLIN, 0};
        EXPECT_EQ(poll(&readable, 1, 5000), 1) << "round " << round;
        EXPECT_EQ(read_to_eof(fd).size(), big.size()) << "round " << round;
    }
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "greeted"), 5) << summary;
}

TEST(Server, SigtermGreetsEveryQueuedConnection)
{
    TestProc server;
    // One slow worker: connections pile up in the queue.
    int port = start_server(server, {"-w", "1", "--work-us", "20000"});
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 20; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        fds.push_back(fd);
    }
    ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })) << "not all accepted";
    server.send_signal(SIGTERM);
    int greeted = 0;
    for (int fd : fds)
        greeted += read_to_eof(fd) == kGreeting;
    EXPECT_EQ(greeted, 20);
    ASSERT_EQ(server.wait_exit(20000), 0) << server.err();
    const std::string &out = server.out();
    EXPECT_EQ(summary_field(out, "accepted"), 20) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 20) << out;
    EXPECT_GE(summary_field(out, "queue_high_water"), 10) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

// Under --overload block the accept thread stops taking clients from the backlog once the
// queue is deep (2 x max(64, 2 x workers) = 128 for one worker, plus at most one batch of
// 16); under reject, or when the listen backlog is too small to hold the rest, it takes them
// at once. Either way every client is greeted.
int queue_high_water_for(const std::vector<std::string> &extra, int clients, int work_us)
{
    TestProc server;
    std::vector<std::string> args = {"-w", "1", "--work-us", std::to_string(work_us)};
    args.insert(args.end(), extra.begin(), extra.end());
    int port = start_server(server, args);
    EXPECT_GT(port, 0) << server.err();
    if (port <= 0)
        return -1;
    std::vector<int> fds;
    for (int i = 0; i < clients; i++) {
        int fd = connect_tcp(port);
        EXPECT_GE(fd, 0);
        if (fd >= 0)
            fds.push_back(fd);
    }
    int greeted = 0;
    for (int fd : fds)
        greeted += read_to_eof(fd) == kGreeting;
    EXPECT_EQ(greeted, clients);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), clients) << out;
    return (int)summary_field(out, "queue_high_water");
}

TEST(Server, PoolLeavesClientsInTheBacklogWhileTheQueueIsDeep)
{
    int blocked = queue_high_water_for({"--overload", "block"}, 400, 1000);
    EXPECT_GT(blocked, 0);
    EXPECT_LE(blocked, 128 + 16) << "the accept thread kept pulling from the backlog";
    // The worker needs 5 ms a client here: 300 clients connect well before it has served 150.
    int rejecting = queue_high_water_for({"--overload", "reject"}, 300, 5000);
    EXPECT_GT(rejecting, 150) << "under reject the accept thread must not hold back";
    int small_backlog = queue_high_water_for({"--backlog", "256"}, 300, 5000);
    EXPECT_GT(small_backlog, 150) << "a 256-client backlog cannot hold 4 x 128 clients";
}

TEST(Server, OverloadRejectSendsBusyMessageAndCountsIt)
{
    TestProc server;
    int port = start_server(server, {"-w", "1", "-q", "1", "--work-us", "300000", "--overload",
                                     "reject", "--busy-message", "busy\n"});
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 8; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        fds.push_back(fd);
        ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })); // in turn
    }
    int greeted = 0, busy = 0;
    for (int fd : fds) {
        std::string got = read_to_eof(fd);
        greeted += got == kGreeting;
        busy += got == "busy\n";
    }
    EXPECT_EQ(greeted + busy, 8);
    EXPECT_GE(busy, 5); // one in the worker, one in the queue, the rest turned away
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "rejected"), busy) << summary;
    EXPECT_EQ(summary_field(summary, "greeted"), greeted) << summary;
    EXPECT_EQ(summary_unaccounted(summary), 0) << summary;
}

TEST(Server, AccessLogUsesTheTutorialsForm)
{
    TestProc server;
    int port = start_server(server, {"--access-log"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    std::string line = server.wait_for_line("Got connection from ", 5000);
    EXPECT_NE(line.find("Got connection from ('127.0.0.1', "), std::string::npos) << line;
    EXPECT_EQ(line.back(), ')');
    stop_server(server);
}

TEST(Server, PortInUseExitsOneAndSaysSo)
{
    TestProc first;
    int port = start_server(first);
    ASSERT_GT(port, 0) << first.err();
    TestProc second;
    EXPECT_EQ(run_command(second, {GREETER_SERVER_BIN, "-H", "127.0.0.1", "-p", std::to_string(port)}),
              1);
    EXPECT_NE(second.err().find("Address already in use"), std::string::npos) << second.err();
    stop_server(first);
}

TEST(Server, UnreadableGreetingFileExitsOne)
{
    TestProc p;
    EXPECT_EQ(run_command(p, {GREETER_SERVER_BIN, "-p", "0", "--greeting-file", "/nonexistent/g"}), 1);
    EXPECT_NE(p.err().find("--greeting-file /nonexistent/g: No such file"), std::string::npos)
        << p.err();
}

// Threads of process pid whose name (comm) is name.
int threads_named(pid_t pid, const std::string &name)
{
    int n = 0;
    std::error_code gone; // the process may be exiting
    for (const auto &task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", gone)) {
        std::string comm;
        std::ifstream(task.path() / "comm") >> comm;
        n += comm == name;
    }
    return n;
}

// The "per core" defaults count the CPUs the server may run on, not the machine's: pinned to
// one CPU (as taskset, a cpuset or systemd's CPUAffinity= pin it), the pool starts 4 workers
// and the event model one loop, and --help says 4.
TEST(Server, PerCoreDefaultsCountTheCpusItMayRunOn)
{
    cpu_set_t saved, one;
    ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &saved))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0); // the servers inherit it
    TestProc pool, event, help;
    int pool_port = start_server(pool, {"-m", "pool"});
    int event_port = start_server(event, {"-m", "event"});
    int help_rc = run_command(help, {GREETER_SERVER_BIN, "--help"});
    ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
    ASSERT_GT(pool_port, 0) << pool.err();
    ASSERT_GT(event_port, 0) << event.err();
    // The threads start after "listening on": wait for them, then count.
    wait_until([&] { return threads_named(pool.pid(), "pool-worker") >= 4; }, 5000);
    wait_until([&] { return threads_named(event.pid(), "event") >= 1; }, 5000);
    EXPECT_EQ(threads_named(pool.pid(), "pool-worker"), 4);
    EXPECT_EQ(threads_named(event.pid(), "event"), 1);
    EXPECT_EQ(help_rc, 0);
    EXPECT_NE(help.out().find("(default 4 per core: 4)"), std::string::npos) << help.out();
    stop_server(pool);
    stop_server(event);
}

TEST(Server, HelpListsEveryOption)
{
    TestProc p;
    ASSERT_EQ(run_command(p, {GREETER_SERVER_BIN, "--help"}), 0);
    for (const char *opt : {"--model", "--host", "--port", "--workers", "--queue", "--backlog",
                            "--overload", "--busy-message", "--greeting", "--greeting-file",
                            "--io-timeout", "--work-us", "--work-kind", "--access-log", "--quiet"})
        EXPECT_NE(p.out().find(opt), std::string::npos) << opt;
}

// With far fewer descriptors than clients, every client is greeted or told we are busy,
// nobody hangs, and the server serves normally afterwards.
TEST(Server, SurvivesDescriptorExhaustion)
{
    TestProc server;
    std::string cmd = std::string("ulimit -n 40 && exec ") + GREETER_SERVER_BIN +
                      " -H 127.0.0.1 -p 0 --quiet -w 4 --work-us 30000";
    ASSERT_TRUE(server.start({"/bin/sh", "-c", cmd}));
    int port = server.wait_listening();
    ASSERT_GT(port, 0) << server.err();
    std::vector<int> fds;
    for (int i = 0; i < 80; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        fds.push_back(fd);
    }
    int greeted = 0, busy = 0;
    for (int fd : fds) {
        std::string got = read_to_eof(fd, 20000);
        greeted += got == kGreeting;
        busy += got.rfind("Server busy", 0) == 0;
    }
    EXPECT_EQ(greeted + busy, 80);
    EXPECT_GT(greeted, 0);
    EXPECT_EQ(fetch_greeting(port), kGreeting); // recovered
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "greeted"), greeted + 1) << summary;
    EXPECT_EQ(summary_field(summary, "rejected"), busy) << summary;
    EXPECT_EQ(summary_unaccounted(summary), 0) << summary;
}

} // namespace
