// test_proxy_protocol.cc -- --proxy-protocol in every model: the client's address from the
// PROXY header (v1, v2, LOCAL) is the one for the access log, --deny and --max-per-ip; a
// connection without a valid header, or from outside --proxy-from, is closed unanswered and
// counted proxy_failed; half a header waits for the rest without spinning (a UNIX socket too);
// TLS after the header; the options refused where they do not apply.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testproc.h"
#include "tls.h"

namespace {

std::string v1(const std::string &client, int port)
{
    return "PROXY TCP4 " + client + " 198.18.0.1 " + std::to_string(port) + " 443\r\n";
}

std::string v2(unsigned char command, const char *client, uint16_t port)
{
    std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
    h += static_cast<char>(0x20 | command);
    if (command == 0) // LOCAL: no addresses
        return h + std::string("\x00\x00\x00", 3);
    h += std::string("\x11\x00\x0c", 3);
    unsigned char block[12] = {0};
    inet_pton(AF_INET, client, block);
    inet_pton(AF_INET, "198.18.0.1", block + 4);
    uint16_t p = htons(port), d = htons(443);
    memcpy(block + 8, &p, 2);
    memcpy(block + 10, &d, 2);
    return h + std::string(reinterpret_cast<char *>(block), sizeof(block));
}

// Sends bytes (in two parts with a pause between, when split > 0) and reads to EOF.
std::string proxied_fetch(int port, const std::string &bytes, size_t split = 0)
{
    int fd = connect_tcp(port);
    if (fd < 0)
        return "connect failed";
    if (split > 0 && split < bytes.size()) {
        (void)!write(fd, bytes.data(), split);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        (void)!write(fd, bytes.data() + split, bytes.size() - split);
    } else {
        (void)!write(fd, bytes.data(), bytes.size());
    }
    return read_to_eof(fd, 5000);
}

int start_proxied(TestProc &server, const std::string &model, std::vector<std::string> extra = {})
{
    std::vector<std::string> args = {"-m", model, "--proxy-protocol", "--access-log"};
    args.insert(args.end(), extra.begin(), extra.end());
    return start_server(server, args);
}

class ProxyProtocol : public ::testing::TestWithParam<std::string> {};

// utime + stime of pid and its living children (prefork's, fork's), in clock ticks.
long long tree_cpu_ticks(pid_t pid)
{
    auto ticks = [](pid_t p) {
        std::ifstream in("/proc/" + std::to_string(p) + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        size_t end = stat.rfind(')');
        if (end == std::string::npos)
            return 0LL;
        std::istringstream fields(stat.substr(end + 2));
        std::string field;
        long long sum = 0;
        for (int i = 1; i <= 13 && fields >> field; i++) // state is field 1; utime 12, stime 13
            if (i >= 12)
                sum += atoll(field.c_str());
        return sum;
    };
    long long sum = ticks(pid);
    std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    for (pid_t child; children >> child;)
        sum += ticks(child);
    return sum;
}

// Half a header on a UNIX socket (whose poll and epoll ignore the receive low-water mark)
// waits for the rest without spinning: over a second of that wait the server takes a small
// part of the second of CPU a spin would, and the rest, when it comes, is read.
TEST_P(ProxyProtocol, HalfAHeaderOnAUnixSocketWaitsWithoutSpinning)
{
    TempDir dir;
    std::string sock = dir.path("greeter.sock");
    TestProc server;
    start_proxied(server, GetParam(), {"--unix", sock, "--io-timeout", "10s"});
    ASSERT_TRUE(wait_until([&] { return access(sock.c_str(), F_OK) == 0; })) << server.err();
    int fd = connect_unix(sock);
    ASSERT_GE(fd, 0);
    std::string hdr = v1("192.0.2.9", 9999);
    ASSERT_EQ(write(fd, hdr.data(), 16), 16);
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // the part is read
    long long before = tree_cpu_ticks(server.pid());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    long long used_ms = (tree_cpu_ticks(server.pid()) - before) * 1000 / sysconf(_SC_CLK_TCK);
    EXPECT_LT(used_ms, 300) << "ms of CPU in a second of waiting for the rest of a header";
    ASSERT_EQ(write(fd, hdr.data() + 16, hdr.size() - 16), (ssize_t)(hdr.size() - 16));
    EXPECT_EQ(read_to_eof(fd, 5000), kGreeting);
    std::string out = stop_server(server);
    EXPECT_NE(out.find("Got connection from ('192.0.2.9', 9999)"), std::string::npos) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
    EXPECT_EQ(summary_field(out, "proxy_failed"), 0) << out;
}

TEST_P(ProxyProtocol, TheHeadersAddressIsTheClients)
{
    TestProc server;
    int port = start_proxied(server, GetParam());
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(proxied_fetch(port, v1("192.0.2.7", 5555) + "ignored"), kGreeting);
    EXPECT_EQ(proxied_fetch(port, v2(1, "198.51.100.3", 6666)), kGreeting);
    // Split after the signature: the rest comes later (the waiting room, the event loop's
    // PHASE_PROXY, a blocking model's poll).
    EXPECT_EQ(proxied_fetch(port, v1("203.0.113.5", 7777), 14), kGreeting);
    EXPECT_EQ(proxied_fetch(port, v2(0, nullptr, 0)), kGreeting); // LOCAL: a health check
    std::string out = stop_server(server);
    EXPECT_NE(out.find("Got connection from ('192.0.2.7', 5555)"), std::string::npos) << out;
    EXPECT_NE(out.find("Got connection from ('198.51.100.3', 6666)"), std::string::npos) << out;
    EXPECT_NE(out.find("Got connection from ('203.0.113.5', 7777)"), std::string::npos) << out;
    EXPECT_NE(out.find("Got connection from ('127.0.0.1', "), std::string::npos) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 4) << out;
    EXPECT_EQ(summary_field(out, "proxy_failed"), 0) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST_P(ProxyProtocol, NoValidHeaderIsClosedUnansweredAndCounted)
{
    TestProc server;
    int port = start_proxied(server, GetParam(), {"--io-timeout", "300ms"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(proxied_fetch(port, "hello\r\n"), "");                 // not a balancer
    EXPECT_EQ(proxied_fetch(port, "PROXY TCP4 192.0.2.7\r\n"), ""); // a broken header
    int silent = connect_tcp(port);                          // says nothing
    ASSERT_GE(silent, 0);
    EXPECT_EQ(read_to_eof(silent, 5000), "");
    // A part of a header, then: nothing more, its EOF, or junk. (The part is kept by the
    // server meanwhile: each way must free it, which the sanitized build checks.)
    for (const char *then : {"", "eof", "\x01junk\r\n"}) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, "PROXY TCP4 1", 12), 12);
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the part is read alone
        if (std::string(then) == "eof") {
            shutdown(fd, SHUT_WR);
        } else if (*then) {
            ASSERT_EQ(write(fd, then, strlen(then)), (ssize_t)strlen(then));
        }
        EXPECT_EQ(read_to_eof(fd, 5000), "") << then;
    }
    EXPECT_EQ(proxied_fetch(port, v1("192.0.2.7", 1)), kGreeting); // and the next one is fine
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "proxy_failed"), 6) << out;
    EXPECT_EQ(summary_field(out, "failed"), 6) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST_P(ProxyProtocol, OutsideProxyFromIsClosedUnanswered)
{
    TestProc server;
    int port = start_proxied(server, GetParam(), {"--proxy-from", "198.18.0.0/15"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(proxied_fetch(port, v1("192.0.2.7", 5555)), ""); // 127.0.0.1 is not trusted now
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "proxy_failed"), 1) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 0) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST_P(ProxyProtocol, DenyAndMaxPerIpSeeTheClientNotTheBalancer)
{
    // The iterative model serves one client at a time: no cap can be reached there.
    bool one_at_a_time = GetParam() == "iterative";
    TestProc server;
    // The work keeps the first client's place taken while the others arrive.
    int port = start_proxied(server, GetParam(),
                             {"--deny", "192.0.2.0/24", "--max-per-ip", "1", "--work-us", "400000"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(proxied_fetch(port, v1("192.0.2.7", 5555)), ""); // denied by its own address
    int first = connect_tcp(port);
    ASSERT_GE(first, 0);
    std::string hdr = v1("198.51.100.1", 1000);
    ASSERT_EQ(write(first, hdr.data(), hdr.size()), static_cast<ssize_t>(hdr.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The same client again: over its cap. Another client through the same balancer: in.
    std::string again = one_at_a_time ? "" : proxied_fetch(port, v1("198.51.100.1", 1001));
    std::string other = proxied_fetch(port, v1("198.51.100.2", 1002));
    EXPECT_EQ(read_to_eof(first, 5000), kGreeting);
    std::string out = stop_server(server);
    EXPECT_NE(again, kGreeting) << out;
    EXPECT_EQ(other, kGreeting) << out;
    EXPECT_EQ(summary_field(out, "denied"), 1) << out;
    EXPECT_EQ(summary_field(out, "rejected"), one_at_a_time ? 0 : 1) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

TEST_P(ProxyProtocol, TlsComesAfterTheHeader)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    TestProc server;
    int port = start_proxied(server, GetParam(),
                             {"--tls-cert", test_cert("server.pem"), "--tls-key", test_cert("server.key")});
    ASSERT_GT(port, 0) << server.err();
    for (const std::string &hdr : {v1("192.0.2.9", 4242), v2(1, "192.0.2.10", 4343)}) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, hdr.data(), hdr.size()), static_cast<ssize_t>(hdr.size()));
        TlsTestClient tls;
        ASSERT_TRUE(tls.attach(fd));
        ASSERT_TRUE(tls.handshake());
        EXPECT_EQ(tls.greeting(), kGreeting);
    }
    std::string out = stop_server(server);
    EXPECT_NE(out.find("Got connection from ('192.0.2.9', 4242)"), std::string::npos) << out;
    EXPECT_NE(out.find("Got connection from ('192.0.2.10', 4343)"), std::string::npos) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 2) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

// The pool under --overload reject turns away, in its accept thread, what does not fit the
// queue: those connections have not had their header read, so admission never counted them,
// and turning them away must not give a place back (--max-conns would grow by one each time).
TEST(ProxyProtocolPool, QueueFullTurnAwaysLeaveTheCapsWhole)
{
    TestProc server;
    int port = start_proxied(server, "pool", {"-w", "4", "-q", "1", "--overload", "reject",
                                              "--max-conns", "1", "--work-us", "200000"});
    ASSERT_GT(port, 0) << server.err();
    // A burst: what the queue cannot take is turned away by the accept thread.
    std::vector<int> burst;
    for (int i = 0; i < 12; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        std::string hdr = v1("198.51.100." + std::to_string(10 + i), 1000 + i);
        (void)!write(fd, hdr.data(), hdr.size());
        burst.push_back(fd);
    }
    for (int fd : burst)
        read_to_eof(fd, 5000);
    // Now three at once: --max-conns 1 lets exactly one in while its work lasts.
    std::vector<int> three;
    for (int i = 0; i < 3; i++) {
        int fd = connect_tcp(port);
        ASSERT_GE(fd, 0);
        std::string hdr = v1("203.0.113." + std::to_string(1 + i), 2000 + i);
        (void)!write(fd, hdr.data(), hdr.size());
        three.push_back(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    int greeted = 0;
    for (int fd : three)
        greeted += read_to_eof(fd, 5000) == kGreeting;
    std::string out = stop_server(server);
    EXPECT_GT(summary_field(out, "rejected"), 0) << out;
    EXPECT_EQ(greeted, 1) << out;
    EXPECT_EQ(summary_unaccounted(out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(AllModels, ProxyProtocol,
                         ::testing::Values("pool", "fork", "prefork", "thread", "iterative", "event"),
                         [](const auto &info) { return info.param; });

TEST(ProxyProtocolOptions, RefusedWhereTheyDoNotApply)
{
    struct {
        std::vector<std::string> args;
        const char *says;
    } cases[] = {
        {{"--proxy-protocol", "--udp"}, "--proxy-protocol does not apply with --udp"},
        {{"--proxy-from", "10.0.0.0/8"}, "--proxy-from goes with --proxy-protocol"},
        {{"--proxy-protocol", "--proxy-from", "10.0.0.1/8"}, "--proxy-from"},
    };
    for (const auto &c : cases) {
        std::vector<std::string> argv = {GREETER_SERVER_BIN, "-p", "0"};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        TestProc proc;
        EXPECT_EQ(run_command(proc, argv, 10000), 2) << c.says;
        EXPECT_NE(proc.err().find(c.says), std::string::npos) << proc.err();
    }
}

TEST(ProxyProtocolOptions, HelpListsThem)
{
    TestProc proc;
    ASSERT_EQ(run_command(proc, {GREETER_SERVER_BIN, "--help"}, 10000), 0);
    EXPECT_NE(proc.out().find("--proxy-protocol"), std::string::npos);
    EXPECT_NE(proc.out().find("--proxy-from CIDR"), std::string::npos);
}

// Sockets inherited from a launcher (systemd's LISTEN_FDS) read the header as opened ones do;
// a UNIX socket's clients may send it (the socket file's permissions say who connects); an
// inherited datagram socket is refused with --proxy-protocol, at start.
TEST(ProxyProtocolInherited, TcpAndUnixSocketsFromTheLauncherReadTheHeader)
{
    const char *activate = "/usr/bin/systemd-socket-activate";
    if (access(activate, X_OK) != 0) {
        const char *ci = getenv("CI");
        ASSERT_FALSE(ci && std::string(ci) == "true") << "systemd-socket-activate is missing";
        GTEST_SKIP() << "systemd-socket-activate is missing";
    }
    TempDir dir;
    int port = closed_port();
    std::string sock = dir.path("greeter.sock");
    TestProc server;
    ASSERT_TRUE(server.start({activate, "-l", "127.0.0.1:" + std::to_string(port), "-l", sock,
                              GREETER_SERVER_BIN, "--quiet", "--proxy-protocol", "--access-log"}))
        << server.error();
    ASSERT_TRUE(wait_until([&] { return proxied_fetch(port, v1("192.0.2.44", 4444)) == kGreeting; }))
        << server.err();
    int fd = connect_unix(sock);
    ASSERT_GE(fd, 0);
    std::string hdr = v2(1, "192.0.2.45", 4545);
    ASSERT_EQ(write(fd, hdr.data(), hdr.size()), static_cast<ssize_t>(hdr.size()));
    EXPECT_EQ(read_to_eof(fd, 5000), kGreeting);
    std::string out = stop_server(server);
    EXPECT_NE(out.find("Got connection from ('192.0.2.44', 4444)"), std::string::npos) << out;
    EXPECT_NE(out.find("Got connection from ('192.0.2.45', 4545)"), std::string::npos) << out;
    EXPECT_EQ(summary_field(out, "proxy_failed"), 0) << out;

    TestProc refused;
    int udp_port = closed_port();
    ASSERT_TRUE(refused.start({activate, "-d", "-l", "127.0.0.1:" + std::to_string(udp_port),
                               GREETER_SERVER_BIN, "--quiet", "--proxy-protocol"}))
        << refused.error();
    // The launcher starts the server at the first datagram (once it has bound the port).
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to = {};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(udp_port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_TRUE(wait_until([&] {
        sendto(u, "x", 1, 0, reinterpret_cast<sockaddr *>(&to), sizeof(to));
        refused.wait_for_line(std::string(1, '\x01'), 50); // collects stderr meanwhile
        return refused.err().find("does not apply") != std::string::npos;
    })) << refused.err();
    close(u);
    refused.send_signal(SIGTERM); // the launcher may outlive the server it started
    refused.wait_exit(5000);
    EXPECT_NE(refused.err().find("--proxy-protocol does not apply"), std::string::npos) << refused.err();
}

} // namespace
