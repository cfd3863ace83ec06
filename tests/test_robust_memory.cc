// test_robust_memory.cc -- the event model's memory after a flood of stalled TLS handshakes
// comes back to about what it was (the allocator is made to give freed memory back).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clock.h"
#include "testproc.h"
#include "tls.h"

namespace {

// A TLS ClientHello as a real client sends it: the first flight of a handshake, caught on a
// socket pair. "" on failure.
std::string client_hello()
{
    char err[TLS_ERRLEN];
    tls_client_opts opts = {};
    opts.insecure = 1;
    tls_ctx *ctx = tls_ctx_new_client(&opts, err, sizeof(err));
    int pair[2];
    std::string hello;
    if (ctx && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
        tls_conn *conn = tls_conn_new(ctx, pair[0], "localhost", err, sizeof(err));
        if (conn && tls_handshake(conn) == TLS_IO_WANT_READ) {
            char buf[16384];
            ssize_t n = recv(pair[1], buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0)
                hello.assign(buf, (size_t)n);
        }
        tls_conn_free(conn);
        close(pair[0]);
        close(pair[1]);
    }
    tls_ctx_free(ctx);
    return hello;
}

// Resident memory of pid in kB, from /proc; -1 when unknown.
long rss_kb(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

// n clients that send a ClientHello and then nothing: the server holds each handshake until
// --io-timeout, then closes it. Returns once every one was closed (or timeout_ms passed).
bool stall_handshakes(int port, const std::string &hello, int n, int timeout_ms)
{
    std::vector<struct pollfd> fds;
    for (int i = 0; i < n; i++) {
        int fd = connect_tcp(port);
        if (fd < 0 || send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) != (ssize_t)hello.size())
            break;
        fds.push_back({fd, POLLIN, 0});
    }
    bool all = (int)fds.size() == n;
    uint64_t end = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    size_t closed = 0;
    while (closed < fds.size() && clock_now_ns() < end) {
        if (poll(fds.data(), fds.size(), 100) <= 0)
            continue;
        for (auto &p : fds) {
            char buf[4096];
            if (p.fd >= 0 && p.revents && read(p.fd, buf, sizeof(buf)) <= 0) {
                close(p.fd);
                p.fd = -1; /* poll ignores it from now on */
                closed++;
            }
        }
    }
    for (auto &p : fds)
        if (p.fd >= 0)
            close(p.fd);
    return all && closed == fds.size();
}

// The event model after rounds of stalled TLS handshakes: the allocator kept what they freed
// (6.8 -> 23 -> 26 -> 27 MB for these three rounds of 300) although nothing leaked; the loop
// now hands it back once the surge has passed.
TEST(EventMemory, StalledTlsHandshakesLeaveNoMemoryBehind)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    char tmpl[] = "/tmp/greeter-robust-certs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    struct RemoveDir {
        std::string path;
        ~RemoveDir() { std::error_code ec; std::filesystem::remove_all(path, ec); }
    } remove_dir{dir};
    // One self-signed certificate is all a handshake that never finishes needs.
    TestProc make;
    ASSERT_EQ(run_command(make, {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                                 "-days", "1", "-keyout", dir + "/server.key", "-out",
                                 dir + "/server.pem"},
                          30000),
              0)
        << make.err();
    std::string hello = client_hello();
    ASSERT_FALSE(hello.empty());
    TestProc server;
    // Two loops, whatever the machine: each then sees about 150 of a round's 300.
    int port = start_server(server, {"-m", "event", "-w", "2", "--io-timeout", "300ms", "--tls-cert",
                                     dir + "/server.pem", "--tls-key", dir + "/server.key"});
    ASSERT_GT(port, 0) << server.err();
    long before = rss_kb(server.pid());
    const long kSlackKb = 6 * 1024;
    for (int round = 0; round < 3; round++)
        ASSERT_TRUE(stall_handshakes(port, hello, 300, 10000)) << "round " << round;
    long after = rss_kb(server.pid());
    for (uint64_t end = clock_now_ns() + 2000000000ull; after > before + kSlackKb && clock_now_ns() < end;
         after = rss_kb(server.pid()))
        usleep(20000);
    EXPECT_LE(after, before + kSlackKb) << "before " << before << " kB, after " << after << " kB";
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "tls_failed"), 900) << out;
}

} // namespace
