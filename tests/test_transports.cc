// test_transports.cc -- UDP, UNIX sockets and IPv6 through the real server and client.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "testproc.h"

namespace {

// A UDP socket connected to 127.0.0.1:port, so that send/recv talk to the server only; -1
// on failure.
int connected_udp_socket(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

class Udp : public ::testing::TestWithParam<std::string> {};

TEST_P(Udp, EveryDatagramIsAnswered)
{
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--udp"});
    ASSERT_GT(port, 0) << server.err();
    for (int i = 0; i < 5; i++) {
        TestProc c;
        EXPECT_EQ(run_client(c, {"--udp", "127.0.0.1", std::to_string(port)}), 0) << c.err();
        EXPECT_EQ(c.out(), kGreeting + "\n");
    }
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "accepted"), 5) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 5) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, Udp, ::testing::Values("pool", "iterative", "event"),
                         [](const auto &info) { return info.param; });

// Datagrams have no accept step: the model's log line must not describe one.
TEST(UdpServer, LogSaysHowDatagramsAreServed)
{
    TestProc server;
    ASSERT_GT(start_server(server, {"--udp"}, false), 0) << server.err();
    stop_server(server);
    EXPECT_NE(server.err().find("model pool over UDP: threads receive datagrams"), std::string::npos)
        << server.err();
    EXPECT_EQ(server.err().find("accept thread ->"), std::string::npos) << server.err();
}

TEST(UdpServer, OversizedDatagramsAreDroppedAndCounted)
{
    TestProc server;
    // Without the anti-amplification limit, which would leave the small ones unanswered
    // too (test_amplification).
    int port = start_server(server, {"--udp", "--udp-max", "100", "--udp-amplification", "0"});
    ASSERT_GT(port, 0) << server.err();
    int fd = connected_udp_socket(port);
    ASSERT_GE(fd, 0);
    std::string big(60000, 'x'), small = "hi", empty;
    ASSERT_EQ(send(fd, big.data(), big.size(), 0), (ssize_t)big.size());
    ASSERT_EQ(send(fd, empty.data(), 0, 0), 0);
    ASSERT_EQ(send(fd, small.data(), small.size(), 0), (ssize_t)small.size());
    char buf[256];
    int replies = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (poll(&pfd, 1, 500) > 0) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        ASSERT_EQ(std::string(buf, (size_t)std::max<ssize_t>(n, 0)), kGreeting);
        replies++;
    }
    close(fd);
    EXPECT_EQ(replies, 2); // the empty and the small datagram; the big one is dropped
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "accepted"), 3) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
    EXPECT_EQ(summary_field(out, "rejected"), 1) << out;
}

// Voluntary context switches of every thread of process pid so far.
long voluntary_switches(pid_t pid)
{
    long total = 0;
    std::string task_dir = "/proc/" + std::to_string(pid) + "/task/";
    std::vector<std::string> tids;
    if (DIR *d = opendir(task_dir.c_str())) {
        while (struct dirent *e = readdir(d))
            if (e->d_name[0] != '.')
                tids.push_back(e->d_name);
        closedir(d);
    }
    for (const std::string &tid : tids) {
        std::ifstream status(task_dir + tid + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("voluntary_ctxt_switches:", 0) == 0)
                total += atol(line.c_str() + line.find(':') + 1);
    }
    return total;
}

// The pool's workers share one UDP socket: a datagram must wake one idle worker, not all
// eight (each then finding nothing to read). Counted in context switches, not timed.
TEST(UdpServer, ADatagramWakesOneWorkerNotTheWholePool)
{
    TestProc server;
    int port = start_server(server, {"--udp", "-w", "8"});
    ASSERT_GT(port, 0) << server.err();
    int fd = connected_udp_socket(port);
    ASSERT_GE(fd, 0);
    const int rounds = 200;
    long before = voluntary_switches(server.pid());
    char buf[256];
    struct pollfd pfd = {fd, POLLIN, 0};
    for (int i = 0; i < rounds; i++) {
        ASSERT_EQ(send(fd, "greeting?", 9, 0), 9);
        ASSERT_EQ(poll(&pfd, 1, 5000), 1) << "no reply to datagram " << i;
        ASSERT_EQ(recv(fd, buf, sizeof(buf), 0), (ssize_t)kGreeting.size());
    }
    long switches = voluntary_switches(server.pid()) - before;
    close(fd);
    // One wake-up per datagram, with room for the odd extra; a herd would be about 8.
    EXPECT_LT(switches, 3L * rounds) << switches << " switches for " << rounds << " datagrams";
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), rounds) << out;
}

// A UDP socket that never answers: the client sends 1 + retries datagrams, then gives up.
TEST(UdpClient, RetriesThenGivesUp)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)), 0);
    getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len);
    TestProc c;
    EXPECT_EQ(run_client(c, {"--udp", "-t", "100ms", "--retries", "2", "127.0.0.1",
                         std::to_string(ntohs(sin.sin_port))}),
              1);
    EXPECT_NE(c.err().find("no reply after 3 attempts of 100 ms each"), std::string::npos) << c.err();
    EXPECT_NE(c.err().find("retrying (2 of 2)"), std::string::npos) << c.err();
    int datagrams = 0;
    char buf[64];
    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        datagrams++;
    EXPECT_EQ(datagrams, 3);
    close(fd);
}

TEST(UdpClient, ClosedPortIsRefused)
{
    TestProc c;
    EXPECT_EQ(run_client(c, {"--udp", "-t", "500ms", "127.0.0.1", "9"}), 1);
    EXPECT_NE(c.err().find("nothing is listening there"), std::string::npos) << c.err();
}

// The loopback network's broadcast address: reaching it needs SO_BROADCAST, which
// --broadcast (or the host <broadcast>) sets. Nothing leaves the machine: 127/8 is loopback.
TEST(UdpClient, BroadcastNeedsTheFlag)
{
    TestProc server;
    int port = start_server(server, {"--udp", "-H", "0.0.0.0"});
    ASSERT_GT(port, 0) << server.err();
    TestProc without;
    EXPECT_EQ(run_client(without, {"--udp", "-t", "300ms", "127.255.255.255", std::to_string(port)}), 1);
    EXPECT_NE(without.err().find("needs --broadcast"), std::string::npos) << without.err();
    TestProc with;
    EXPECT_EQ(run_client(with, {"--udp", "--broadcast", "-t", "2s", "127.255.255.255", std::to_string(port)}),
              0)
        << with.err();
    EXPECT_EQ(with.out(), kGreeting + "\n");
    stop_server(server);
}

TEST(Unix, StreamGreetingPermissionsAndCleanup)
{
    TempDir dir;
    std::string path = dir.path("stream.sock");
    TestProc server;
    ASSERT_EQ(start_server(server, {"--unix", path, "--unix-mode", "0600"}), 0) << server.err();
    EXPECT_EQ(server.listening(), "listening on " + path);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    TestProc c;
    EXPECT_EQ(run_client(c, {"--unix", path}), 0) << c.err();
    EXPECT_EQ(c.out(), kGreeting + "\n");
    stop_server(server);
    EXPECT_NE(access(path.c_str(), F_OK), 0) << "the socket file must be removed on exit";
}

TEST(Unix, DatagramGreeting)
{
    TempDir dir;
    std::string path = dir.path("dgram.sock");
    TestProc server;
    ASSERT_EQ(start_server(server, {"--unix", path, "--udp"}), 0) << server.err();
    EXPECT_EQ(server.listening(), "listening on " + path + " (udp)");
    TestProc c;
    EXPECT_EQ(run_client(c, {"--udp", "--unix", path}), 0) << c.err();
    EXPECT_EQ(c.out(), kGreeting + "\n");
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
}

TEST(Unix, StaleSocketIsReplacedOtherFilesAreNot)
{
    // A stale socket: bound, then its owner went away without removing it.
    TempDir dir;
    std::string path = dir.path("stale.sock");
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {};
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)), 0);
    close(fd);
    TestProc server;
    ASSERT_EQ(start_server(server, {"--unix", path}), 0) << server.err();
    EXPECT_EQ(server.listening(), "listening on " + path);

    // A live server's socket is not taken over.
    TestProc second;
    EXPECT_EQ(run_command(second, {GREETER_SERVER_BIN, "--unix", path}), 1);
    EXPECT_NE(second.err().find("a server is already listening there"), std::string::npos)
        << second.err();
    stop_server(server);

    // A regular file is never deleted.
    std::string file = dir.path("not-a-socket");
    std::ofstream(file) << "precious";
    TestProc third;
    EXPECT_EQ(run_command(third, {GREETER_SERVER_BIN, "--unix", file}), 1);
    EXPECT_NE(third.err().find("exists and is not a socket"), std::string::npos) << third.err();
    std::ifstream in(file);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

// A second server on a live socket's path finds out without connecting: the first sees no
// connection (no "failed" count, no access-log line), stream or datagram.
TEST(Unix, LivenessCheckIsInvisibleToTheLiveServer)
{
    TempDir dir;
    for (bool dgram : {false, true}) {
        std::string path = dir.path(dgram ? "live-dgram.sock" : "live.sock");
        std::vector<std::string> args = {"--unix", path, "--access-log"};
        if (dgram)
            args.push_back("--udp");
        TestProc first;
        ASSERT_EQ(start_server(first, args), 0) << first.err();
        TestProc second;
        args.insert(args.begin(), GREETER_SERVER_BIN);
        EXPECT_EQ(run_command(second, args), 1) << dgram;
        EXPECT_NE(second.err().find("a server is already listening there"), std::string::npos)
            << second.err();
        std::string out = stop_server(first);
        EXPECT_EQ(summary_field(out, "accepted"), 0) << out;
        EXPECT_EQ(out.find("Got connection"), std::string::npos) << out;
    }
}

TEST(IPv6, GreetsOverIPv6WithTheTutorialsAddressForm)
{
    TestProc server;
    int port = start_server(server, {"-H", "::1", "--access-log"});
    ASSERT_GT(port, 0) << server.err();
    TestProc c;
    EXPECT_EQ(run_client(c, {"[::1]:" + std::to_string(port)}), 0) << c.err();
    EXPECT_EQ(c.out(), kGreeting + "\n");
    std::string line = server.wait_for_line("Got connection from", 5000);
    EXPECT_EQ(line.rfind("Got connection from ('::1', ", 0), 0u) << line;
    EXPECT_EQ(line.substr(line.size() - 7), ", 0, 0)") << line;
    stop_server(server);
}

TEST(IPv6, DualStackAcceptsIPv4AndIPv6OnlyRefusesIt)
{
    TestProc dual;
    int port = start_server(dual, {"-H", "::", "--access-log"});
    ASSERT_GT(port, 0) << dual.err();
    EXPECT_EQ(dual.listening(), "listening on [::]:" + std::to_string(port));
    EXPECT_EQ(fetch_greeting(port, 5000, nullptr, "", "127.0.0.1"), kGreeting);
    EXPECT_EQ(fetch_greeting(port, 5000, nullptr, "", "::1"), kGreeting);
    std::string line = dual.wait_for_line("Got connection from", 5000);
    EXPECT_EQ(line.rfind("Got connection from ('::ffff:127.0.0.1', ", 0), 0u) << line;
    stop_server(dual);

    TestProc only;
    port = start_server(only, {"-H", "::", "--ipv6-only"});
    ASSERT_GT(port, 0) << only.err();
    std::string error;
    EXPECT_EQ(fetch_greeting(port, 2000, &error, "", "127.0.0.1"), "");
    EXPECT_NE(error.find("refused"), std::string::npos) << error;
    EXPECT_EQ(fetch_greeting(port, 5000, nullptr, "", "::1"), kGreeting);
    stop_server(only);
}

TEST(TransportOptions, ClientBroadcastNeedsUdp)
{
    TestProc c;
    EXPECT_EQ(run_client(c, {"--broadcast", "127.0.0.1"}), 2);
    EXPECT_NE(c.err().find("go with --udp"), std::string::npos) << c.err();
    // The tutorial's <broadcast> host over TCP: a usage error that says what to add, not a
    // connect failing with "Network is unreachable". Nothing is sent anywhere.
    TestProc tcp;
    EXPECT_EQ(run_client(tcp, {"<broadcast>", "12345"}), 2);
    EXPECT_NE(tcp.err().find("<broadcast> is for datagrams: add --udp"), std::string::npos) << tcp.err();
    EXPECT_EQ(tcp.err().find("unreachable"), std::string::npos) << tcp.err();
}

} // namespace
