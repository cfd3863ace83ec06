// test_deploy.cc -- greeter-server deployed: socket activation by the real systemd-socket-activate,
// the readiness protocol seen on our own NOTIFY_SOCKET, SIGHUP reload, SIGUSR2 hitless upgrade
// under load, and the signals an operator sends (QUIT, USR1, ALRM).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "testproc.h"
#include "tls.h"
#include "upgrade_testutil.h"

namespace {

const char *kActivate = "/usr/bin/systemd-socket-activate";

// Reads the greeting from a UNIX stream socket; "" on failure.
std::string fetch_unix(const std::string &path)
{
    int fd = connect_unix(path);
    return fd < 0 ? "" : read_to_eof(fd, 5000);
}

// Retries fetch_greeting until it answers (a launcher may still be binding) or 5 s pass.
std::string fetch_soon(int port)
{
    for (int i = 0; i < 100; i++) {
        std::string g = fetch_greeting(port, 2000);
        if (!g.empty())
            return g;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
}

// Collects what proc printed so far (on stderr too) for up to ms, without ending it.
void pump(TestProc &proc, int ms = 20) { proc.wait_for_line(std::string(1, '\x01'), ms); }

// Waits until proc's stderr contains text (true) or timeout_ms pass (false).
bool wait_err(TestProc &proc, const std::string &text, int timeout_ms = 5000)
{
    return wait_until([&] {
        pump(proc);
        return proc.err().find(text) != std::string::npos;
    }, timeout_ms);
}

TEST(SocketActivation, GreetsOnInheritedTcpAndUnixSockets)
{
    TempDir dir;
    int port = closed_port();
    std::string sock = dir.path("greeter.sock");
    TestProc server;
    ASSERT_TRUE(server.start({kActivate, "-l", "127.0.0.1:" + std::to_string(port), "-l", sock,
                              GREETER_SERVER_BIN, "--quiet"}))
        << server.error();
    EXPECT_EQ(fetch_soon(port), kGreeting) << server.err();
    EXPECT_EQ(fetch_unix(sock), kGreeting);
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(count_of(out, "listening on"), 2u) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 3) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST(SocketActivation, SocketNamedTlsServesTls)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    int plain = closed_port(), tls = closed_port();
    TestProc server;
    ASSERT_TRUE(server.start({kActivate, "-l", "127.0.0.1:" + std::to_string(plain), "-l",
                              "127.0.0.1:" + std::to_string(tls), "--fdname=plain:tls",
                              GREETER_SERVER_BIN, "--quiet", "--tls-cert", test_cert("server.pem"),
                              "--tls-key", test_cert("server.key")}));
    EXPECT_EQ(fetch_soon(plain), kGreeting) << server.err();
    TestProc client;
    EXPECT_EQ(run_client(client, {"--tls", "--tls-ca", test_cert("ca.pem"), "-t", "5s", "localhost",
                                  std::to_string(tls)}),
              0)
        << client.err();
    EXPECT_EQ(client.out(), kGreeting + "\n");
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
    EXPECT_EQ(summary_field(out, "tls_failed"), 0) << out;
}

TEST(SocketActivation, ConnectedSocketIsRefusedWithTheFix)
{
    int port = closed_port();
    TestProc launcher;
    // --accept hands each connection over as a connected socket: not something to listen on.
    ASSERT_TRUE(launcher.start({kActivate, "--accept", "-l", "127.0.0.1:" + std::to_string(port),
                                GREETER_SERVER_BIN}));
    ASSERT_TRUE(wait_err(launcher, "Listening on")) << launcher.err();
    fetch_greeting(port, 2000); // starts one server, which refuses its socket and exits
    EXPECT_TRUE(wait_err(launcher, "not a listening one (set Accept=no)")) << launcher.err();
    launcher.send_signal(SIGTERM);
    launcher.wait_exit(5000);
}

TEST(SocketActivation, DatagramSocketForAStreamOnlyModelAndAFileAreRefused)
{
    int port = closed_port();
    TestProc launcher;
    ASSERT_TRUE(launcher.start({kActivate, "--datagram", "-l", "127.0.0.1:" + std::to_string(port),
                                GREETER_SERVER_BIN, "-m", "fork"}));
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_TRUE(wait_until([&] {
        sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr *>(&a), sizeof(a));
        pump(launcher, 50);
        return launcher.err().find("does not serve") != std::string::npos;
    })) << launcher.err();
    close(fd);
    EXPECT_NE(launcher.err().find("the fork model does not serve datagrams"), std::string::npos)
        << launcher.err();
    launcher.send_signal(SIGTERM);
    launcher.wait_exit(5000);

    TestProc server; // descriptor 3 is a plain file
    std::string cmd = "exec 3</dev/null; LISTEN_FDS=1 exec '" GREETER_SERVER_BIN "'";
    EXPECT_EQ(run_command(server, {"/bin/sh", "-c", cmd}, 10000), 1);
    EXPECT_NE(server.err().find("inherited descriptor 3 ('unknown'): not a socket"), std::string::npos)
        << server.err();
}

// systemd-socket-activate cannot set SO_REUSEPORT. The event model needs it only to add a
// listener per loop: with one loop it serves the socket as it is (it refused it before), and
// with more it says how to do without.
TEST(SocketActivation, EventWithOneLoopServesASocketWithoutReusePort)
{
    int port = closed_port();
    TestProc server;
    ASSERT_TRUE(server.start({kActivate, "-l", "127.0.0.1:" + std::to_string(port),
                              GREETER_SERVER_BIN, "--quiet", "-m", "event", "-w", "1"}));
    EXPECT_EQ(fetch_soon(port), kGreeting) << server.err();
    EXPECT_EQ(summary_field(stop_server(server), "greeted"), 1) << server.err();

    port = closed_port();
    TestProc refused;
    ASSERT_TRUE(refused.start({kActivate, "-l", "127.0.0.1:" + std::to_string(port),
                               GREETER_SERVER_BIN, "-m", "event", "-w", "2"}));
    ASSERT_TRUE(wait_err(refused, "Listening on")) << refused.err();
    fetch_greeting(port, 2000); // starts the server, which refuses its socket and exits
    EXPECT_TRUE(wait_err(refused, "set ReusePort=yes, or run one loop (-w 1)")) << refused.err();
    refused.send_signal(SIGTERM);
    refused.wait_exit(5000);
}

// Our own NOTIFY_SOCKET: a datagram socket in the abstract namespace.
class Notify {
  public:
    Notify()
    {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        name_ = "@greeter-test-notify-" + std::to_string(getpid());
        sockaddr_un a = {};
        a.sun_family = AF_UNIX;
        memcpy(a.sun_path + 1, name_.c_str() + 1, name_.size() - 1);
        bind(fd_, reinterpret_cast<sockaddr *>(&a), (socklen_t)(offsetof(sockaddr_un, sun_path) + name_.size()));
    }
    ~Notify() { close(fd_); }
    const std::string &name() const { return name_; }
    // The next message, or "" after timeout_ms.
    std::string next(int timeout_ms)
    {
        pollfd p = {fd_, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            return "";
        char buf[4096];
        ssize_t n = recv(fd_, buf, sizeof(buf), 0);
        return n > 0 ? std::string(buf, (size_t)n) : "";
    }

  private:
    int fd_;
    std::string name_;
};

TEST(Notify, ReadyThenStatusThenStoppingInOrder)
{
    Notify notify;
    setenv("NOTIFY_SOCKET", notify.name().c_str(), 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    TestProc server;
    int port = start_server(server);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    ASSERT_GT(port, 0) << server.err();
    std::string first = notify.next(5000);
    EXPECT_EQ(first.rfind("READY=1\nSTATUS=serving: accepted 0,", 0), 0u) << first;
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    // Watchdog pings every 100 ms, a status line every second with the live counts.
    bool watchdog = false, counted = false;
    for (int i = 0; i < 40 && !(watchdog && counted); i++) {
        std::string m = notify.next(2000);
        watchdog |= m == "WATCHDOG=1";
        counted |= m.find("STATUS=serving: accepted 1, greeted 1,") == 0;
    }
    EXPECT_TRUE(watchdog);
    EXPECT_TRUE(counted);
    server.send_signal(SIGTERM);
    std::string m;
    for (int i = 0; i < 40 && m.rfind("STOPPING=1", 0) != 0; i++)
        m = notify.next(2000);
    EXPECT_EQ(m.rfind("STOPPING=1\nSTATUS=draining:", 0), 0u) << m;
    EXPECT_EQ(server.wait_exit(10000), 0);
}

class Reload : public ::testing::TestWithParam<const char *> {};

TEST_P(Reload, SighupSwapsTheGreetingFileAndKeepsTheOldOnABrokenOne)
{
    TempDir dir;
    std::string file = dir.path("greeting");
    std::ofstream(file) << "first";
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--greeting-file", file});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(fetch_greeting(port), "first");
    std::ofstream(file) << "second";
    server.send_signal(SIGHUP);
    EXPECT_TRUE(wait_until([&] { return fetch_greeting(port) == "second"; }));
    std::ofstream(file, std::ios::trunc).flush(); // empty: not a greeting
    server.send_signal(SIGHUP);
    EXPECT_TRUE(wait_err(server, "reload failed, keeping the running configuration")) << server.err();
    EXPECT_EQ(fetch_greeting(port), "second");
    std::string out = stop_server(server);
    EXPECT_GE(summary_field(out, "greeted"), 3) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

// Reloads in quick succession: once a client has met a reload's greeting, no later client
// meets an earlier one. (prefork forked a round of children one by one, tens of milliseconds
// each under load; a reload during the round left its first children serving the old
// greeting after later ones had served the new.)
TEST_P(Reload, OnceTheNewGreetingIsServedNoOldOneIs)
{
    TempDir dir;
    std::string file = dir.path("greeting");
    std::ofstream(file) << "g0";
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--greeting-file", file});
    ASSERT_GT(port, 0) << server.err();
    for (int round = 1; round <= 8; round++) {
        std::string greeting = "g" + std::to_string(round);
        std::ofstream(file, std::ios::trunc) << greeting;
        server.send_signal(SIGHUP);
        ASSERT_TRUE(wait_until([&] { return fetch_greeting(port) == greeting; })) << server.err();
        for (int i = 0; i < 10; i++)
            ASSERT_EQ(fetch_greeting(port), greeting) << "round " << round << ", client " << i;
    }
    std::string out = stop_server(server);
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST_P(Reload, SighupWithABrokenCertificateKeepsServingTheOldOne)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    TempDir dir;
    std::string cert = dir.path("live.pem"), key = dir.path("live.key");
    auto copy = [&](const std::string &from, const std::string &to) {
        std::ifstream in(test_cert(from));
        std::ofstream(to) << in.rdbuf();
    };
    copy("server.pem", cert);
    copy("server.key", key);
    TestProc server;
    int port = start_server(server, {"-m", GetParam(), "--tls-cert", cert, "--tls-key", key});
    ASSERT_GT(port, 0) << server.err();
    auto client_ok = [&] {
        TestProc c;
        return run_client(c, {"--tls", "--tls-ca", test_cert("ca.pem"), "-t", "5s", "localhost",
                              std::to_string(port)}) == 0 &&
               c.out() == kGreeting + "\n";
    };
    EXPECT_TRUE(client_ok());
    std::ofstream(cert) << "not a certificate\n";
    server.send_signal(SIGHUP);
    EXPECT_TRUE(wait_err(server, "reload failed")) << server.err();
    EXPECT_TRUE(client_ok()) << "the old certificate must still be served";
    // A valid but different certificate (for wrong.example): new clients get it and refuse it.
    copy("wrongname.pem", cert);
    copy("wrongname.key", key);
    server.send_signal(SIGHUP);
    EXPECT_TRUE(wait_until([&] { return !client_ok(); })) << server.err();
    std::string out = stop_server(server);
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(Models, Reload, ::testing::Values("pool", "event", "thread", "fork", "prefork"));

// prefork's children each keep the settings they were forked with, so a reload replaces them:
// the child serving a client finishes it with the old greeting, and from the parent's log line
// on, every new connection gets the new one (no waiting for it) and the counts add up.
TEST(ReloadPrefork, ChildrenAreReplacedAndTheClientInFlightFinishesWithTheOld)
{
    TempDir dir;
    std::string file = dir.path("greeting");
    std::ofstream(file) << "first";
    TestProc server;
    // The work holds a client in flight for 1.5 s: the reload takes milliseconds.
    int port = start_server(server, {"-m", "prefork", "-w", "2", "--greeting-file", file,
                                     "--work-us", "1500000"}, false);
    ASSERT_GT(port, 0) << server.err();
    int held = connect_tcp(port);
    ASSERT_GE(held, 0);
    ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; })) << "no child took it";
    std::ofstream(file) << "second";
    server.send_signal(SIGHUP);
    ASSERT_TRUE(wait_err(server, "prefork: replacing 2 children")) << server.err();
    pollfd pending = {held, POLLIN, 0};
    EXPECT_EQ(poll(&pending, 1, 0), 0) << "the held client was not in flight during the reload";
    std::string fresh[2];
    std::vector<std::thread> clients;
    for (std::string &g : fresh)
        clients.emplace_back([&g, port] { g = fetch_greeting(port, 10000); });
    for (std::thread &t : clients)
        t.join();
    EXPECT_EQ(fresh[0], "second");
    EXPECT_EQ(fresh[1], "second");
    EXPECT_EQ(read_to_eof(held, 10000), "first");
    std::ofstream(file, std::ios::trunc).flush(); // empty: refused, nobody is replaced
    server.send_signal(SIGHUP);
    EXPECT_TRUE(wait_err(server, "reload failed, keeping the running configuration")) << server.err();
    std::string out = stop_server(server);
    EXPECT_EQ(count_of(server.err(), "prefork: replacing"), 1u) << server.err();
    EXPECT_EQ(server.err().find("counted as failed"), std::string::npos) << server.err();
    EXPECT_EQ(summary_field(out, "greeted"), 3) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

// The models that fork while the control thread may be reloading: a child forked while it was
// inside OpenSSL (building the new context, freeing the old) would inherit OpenSSL's locks
// held and hang on its first handshake, and the server would then never finish its drain.
// A hundred reloads under TLS load: every client greeted, every count adds up, a clean stop.
class ReloadStorm : public ::testing::TestWithParam<const char *> {};

TEST_P(ReloadStorm, TlsClientsAcrossAHundredReloadsAreAllGreetedAndCounted)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    TestProc server;
    std::vector<std::string> args = {"-m", GetParam(), "--tls-cert", test_cert("server.pem"),
                                     "--tls-key", test_cert("server.key")};
    if (std::string(GetParam()) == "prefork")
        args.insert(args.end(), {"-w", "2"});
    int port = start_server(server, args);
    ASSERT_GT(port, 0) << server.err();
    TestProc load;
    ASSERT_TRUE(load.start({GREETER_LOADGEN_BIN, "-c", "4", "-d", "2s", "-q", "--json", "-",
                            "--tls", "--tls-ca", test_cert("ca.pem"), "--servername", "localhost",
                            "127.0.0.1:" + std::to_string(port)}));
    for (int i = 0; i < 100; i++) { // paced over loadgen's 2 s
        server.send_signal(SIGHUP);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(load.wait_exit(20000), 0) << load.err();
    std::string out = stop_server(server);
    long greetings = -1, errors = -1;
    ASSERT_TRUE(loadgen_counts(load.out(), &greetings, &errors)) << load.out();
    EXPECT_EQ(errors, 0) << "loadgen saw errors: " << load.out();
    EXPECT_GT(greetings, 0);
    EXPECT_EQ(summary_field(out, "greeted"), greetings) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
    EXPECT_EQ(server.err().find("reload failed"), std::string::npos) << server.err();
}

INSTANTIATE_TEST_SUITE_P(Forking, ReloadStorm, ::testing::Values("fork", "prefork"));

TEST(Upgrade, SigusrTwoUnderLoadLosesNoClientAndTheCountsReconcile)
{
    const int upgrades = 3;
    UpgradeRun run;
    upgrade_under_load({"-w", "4"}, {"-c", "20", "-d", "3s"}, upgrades, 300, &run);
    ASSERT_FALSE(HasFatalFailure());
    EXPECT_EQ(run.errors, 0) << "loadgen saw errors: " << run.load_out;
    EXPECT_EQ(count_of(run.server_out, "summary:"), (size_t)upgrades + 1) << run.server_out;
    EXPECT_GT(run.greetings, 0);
    EXPECT_EQ(sum_field(run.server_out, "greeted"), run.greetings) << run.server_out;
    EXPECT_EQ(sum_field(run.server_out, "accepted"), run.greetings) << run.server_out;
}

TEST(Upgrade, ANewProcessThatFailsLeavesTheOldOneServing)
{
    TestProc server;
    int port = start_server(server, {"--upgrade-binary", "/bin/false"});
    ASSERT_GT(port, 0) << server.err();
    server.send_signal(SIGUSR2);
    EXPECT_TRUE(wait_err(server, "exited before it was ready")) << server.err();
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
}

TEST(Signals, QuitDrainsWithTheSummaryAndOthersDoNotEndTheServer)
{
    for (int sig : {SIGHUP, SIGUSR1, SIGALRM, SIGPWR, SIGQUIT}) {
        TestProc server;
        int port = start_server(server);
        ASSERT_GT(port, 0) << server.err();
        server.send_signal(sig);
        if (sig == SIGQUIT) {
            EXPECT_EQ(server.wait_exit(10000), 0) << server.err();
            EXPECT_NE(server.out().find("summary: accepted=0"), std::string::npos) << server.out();
            continue;
        }
        EXPECT_EQ(server.wait_exit(200), -1) << strsignal(sig) << " ended the server";
    }
}

TEST(Signals, UsrOneReopensTheAccessLogInTheFullFormat)
{
    TempDir dir;
    std::string log = dir.path("access.log");
    TestProc server;
    int port = start_server(server, {"--access-log-file", log, "--access-log-format", "full"});
    ASSERT_GT(port, 0) << server.err();
    auto read = [](const std::string &path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    // The line is written once the connection is closed, which the client may see first.
    EXPECT_TRUE(wait_until([&] { return !read(log).empty(); }));
    ASSERT_EQ(rename(log.c_str(), dir.path("access.log.1").c_str()), 0); // as logrotate does
    server.send_signal(SIGUSR1);
    EXPECT_TRUE(wait_until([&] { return access(log.c_str(), F_OK) == 0; }));
    EXPECT_EQ(fetch_greeting(port), kGreeting);
    std::string out = stop_server(server);
    std::regex line("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 127\\.0\\.0\\.1:[0-9]+ greeted [0-9]+us\n$");
    EXPECT_TRUE(std::regex_match(read(dir.path("access.log.1")), line)) << read(dir.path("access.log.1"));
    EXPECT_TRUE(std::regex_match(read(log), line)) << read(log);
    EXPECT_EQ(out.find("greeted 0"), std::string::npos); // access lines never go to stdout
}

TEST(AccessLog, FullFormatNamesAnUnnamedUnixClientWithADash)
{
    // A UNIX client that did not bind has no path: its line still has every field.
    TempDir dir;
    std::string log = dir.path("access.log"), sock = dir.path("g.sock");
    TestProc server, client;
    ASSERT_EQ(start_server(server, {"--unix", sock, "--access-log-file", log,
                                    "--access-log-format", "full"}),
              0)
        << server.err();
    EXPECT_EQ(run_client(client, {"--unix", sock}), 0) << client.err();
    auto read = [&] {
        std::ifstream in(log);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_TRUE(wait_until([&] { return !read().empty(); }));
    stop_server(server);
    std::regex line("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z - greeted [0-9]+us\n$");
    EXPECT_TRUE(std::regex_match(read(), line)) << read();
}

TEST(Limits, ABacklogAboveSomaxconnIsNamedAtStart)
{
    TestProc server;
    int port = start_server(server, {"--backlog", "1000000"});
    ASSERT_GT(port, 0) << server.err();
    stop_server(server);
    EXPECT_NE(server.err().find("--backlog 1000000 is cut to"), std::string::npos) << server.err();
}

} // namespace
