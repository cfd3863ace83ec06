// test_robust_client.cc -- greeter-client's bounds: against servers that stream forever, fill
// their backlog or send too much, it ends in bounded time and memory with exit 1 and a reason.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "clock.h"
#include "testproc.h"
#include "tls.h"

namespace {

const size_t kServerCap = 1 << 20; // the server's --greeting-file limit, the client's default

// A listening stream socket (or a bound datagram socket) on 127.0.0.1 at port_or_zero, or
// on a UNIX path; *port gets the port. -1 on failure.
int listen_on(int port_or_zero, const std::string &unix_path, int backlog, int *port,
              int type = SOCK_STREAM)
{
    if (!unix_path.empty()) {
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        struct sockaddr_un sun = {};
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", unix_path.c_str());
        if (bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0 ||
            (type == SOCK_STREAM && listen(fd, backlog) < 0)) {
            close(fd);
            return -1;
        }
        return fd;
    }
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port_or_zero);
    socklen_t len = sizeof(sin);
    if (bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) < 0 ||
        (type == SOCK_STREAM && listen(fd, backlog) < 0) ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

// A server that accepts one client and writes to it without end (in plain text, or over TLS
// when given a context) until the client goes away, or 20 s pass, or the test ends.
class EndlessServer {
  public:
    EndlessServer(const std::string &unix_path = "", tls_ctx *tls = nullptr) : tls_(tls)
    {
        fd_ = listen_on(0, unix_path, 8, &port_);
        if (fd_ >= 0)
            thread_ = std::thread([this] { serve(); });
    }
    ~EndlessServer()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        if (fd_ >= 0)
            close(fd_);
    }
    int port() const { return port_; }
    bool ok() const { return fd_ >= 0; }

  private:
    void serve()
    {
        uint64_t end = clock_now_ns() + 20000000000ull;
        struct pollfd pfd = {fd_, POLLIN, 0};
        while (!stop_ && clock_now_ns() < end && poll(&pfd, 1, 50) == 0) {
        }
        int c = stop_ ? -1 : accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0)
            return;
        if (tls_)
            stream_tls(c, end);
        else
            stream_plain(c, end);
        close(c);
    }
    void stream_plain(int c, uint64_t end)
    {
        struct timeval tv = {0, 200000};
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        std::string chunk(65536, 'x');
        while (!stop_ && clock_now_ns() < end) {
            ssize_t n = send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                return;
        }
    }
    void stream_tls(int c, uint64_t end)
    {
        char err[TLS_ERRLEN];
        tls_conn *conn = tls_conn_new(tls_, c, nullptr, err, sizeof(err));
        if (conn && tls_handshake_until(conn, clock_now_ns() + 5000000000ull, err, sizeof(err)) == 0) {
            std::string chunk(16384, 'x');
            size_t written;
            while (!stop_ && clock_now_ns() < end) {
                uint64_t soon = clock_now_ns() + 200000000ull;
                if (tls_write_all_until(conn, chunk.data(), chunk.size(), soon, &written, err,
                                        sizeof(err)) < 0 &&
                    clock_now_ns() < soon)
                    break; /* failed, not merely slow: the client has gone */
            }
        }
        tls_conn_free(conn);
    }

    tls_ctx *tls_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A finished client run: exit status, wall time, peak memory, stderr.
struct ClientRun {
    int status = -1; // -1: still running at the bound (then killed)
    double seconds = 0;
    long maxrss_kb = 0;
    std::string err;
};

// Runs greeter-client with stdout thrown away (so the test holds none of a long greeting),
// bounded by timeout_ms; wait4 gives the child's own peak resident memory.
ClientRun run_client_discarding(const std::vector<std::string> &args, int timeout_ms)
{
    ClientRun run;
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0)
        return run;
    uint64_t start = clock_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(errpipe[1], 2);
        std::vector<char *> argv = {const_cast<char *>(GREETER_CLIENT_BIN)};
        for (const auto &a : args)
            argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(errpipe[1]);
    uint64_t deadline = start + (uint64_t)timeout_ms * 1000000u;
    char buf[4096];
    for (;;) {
        uint64_t now = clock_now_ns();
        if (now >= deadline) {
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd pfd = {errpipe[0], POLLIN, 0};
        if (poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
            continue;
        ssize_t n = read(errpipe[0], buf, sizeof(buf));
        if (n <= 0)
            break;
        run.err.append(buf, (size_t)n);
    }
    close(errpipe[0]);
    int status = 0;
    struct rusage ru = {};
    bool timed_out = clock_now_ns() >= deadline;
    wait4(pid, &status, 0, &ru);
    run.seconds = (double)(clock_now_ns() - start) / 1e9;
    run.maxrss_kb = ru.ru_maxrss;
    if (!timed_out && WIFEXITED(status))
        run.status = WEXITSTATUS(status);
    return run;
}

// Whichever bound a fast stream meets first (loopback may carry a GiB within the second).
bool names_a_bound(const std::string &err)
{
    return err.find("no complete greeting within 1000 ms") != std::string::npos ||
           err.find("the greeting is longer than 1073741824 bytes") != std::string::npos;
}

// The bound every run here must keep: a few MB of its own, never the stream's size.
const long kMaxRssKb = 32 * 1024;

// A run against an endless stream: exit 1 within seconds, in a few MB, naming the bound.
void expect_stopped_by_a_bound(const ClientRun &run)
{
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_LT(run.seconds, 5.0);
    EXPECT_LT(run.maxrss_kb, kMaxRssKb);
    EXPECT_TRUE(names_a_bound(run.err)) << run.err;
}

TEST(ClientBounds, EndlessPlainStreamStopsAtTheCap)
{
    EndlessServer server;
    ASSERT_TRUE(server.ok());
    TestProc client;
    EXPECT_EQ(run_command(client, {GREETER_CLIENT_BIN, "127.0.0.1", std::to_string(server.port())},
                          15000),
              1);
    EXPECT_NE(client.err().find("the greeting is longer than 1048576 bytes"), std::string::npos)
        << client.err();
    EXPECT_LE(client.out().size(), kServerCap);
}

// Against an endless stream with the cap raised to 1 GiB, the deadline (or the cap) ends the
// run in about a second, holding a few MB: over TCP and over a UNIX socket.
TEST(ClientBounds, EndlessStreamStopsAtTheDeadline)
{
    TempDir dir;
    for (std::string unix_path : {std::string(), dir.path("endless.sock")}) {
        EndlessServer server(unix_path);
        ASSERT_TRUE(server.ok());
        std::vector<std::string> args = {"-t", "1s", "--max-bytes", "1073741824"};
        if (unix_path.empty())
            args.insert(args.end(), {"127.0.0.1", std::to_string(server.port())});
        else
            args.insert(args.end(), {"--unix", unix_path});
        expect_stopped_by_a_bound(run_client_discarding(args, 15000));
    }
}

// A UNIX connect waits while the listener's backlog is full: -t bounds that wait too.
TEST(ClientBounds, FullUnixBacklogTimesOut)
{
    TempDir dir;
    std::string path = dir.path("full.sock");
    int port;
    int lfd = listen_on(0, path, 0, &port);
    ASSERT_GE(lfd, 0);
    int filler = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sun = {};
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path.c_str());
    ASSERT_EQ(connect(filler, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)), 0);
    ClientRun run = run_client_discarding({"-t", "300ms", "--unix", path}, 10000);
    close(filler);
    close(lfd);
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_LT(run.seconds, 3.0);
    EXPECT_NE(run.err.find("timed out after 300 ms (the server's backlog is full)"), std::string::npos)
        << run.err;
}

// A reply datagram longer than --max-bytes fails; one within it prints whole.
TEST(ClientBounds, UdpReplyOverTheCapFails)
{
    int port = 0;
    int fd = listen_on(0, "", 0, &port, SOCK_DGRAM);
    ASSERT_GE(fd, 0);
    std::atomic<bool> stop{false};
    std::thread answer([&] {
        std::string reply(2000, 'u');
        char buf[512];
        while (!stop) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, 50) <= 0)
                continue;
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof(from);
            if (recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&from), &fromlen) > 0)
                sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr *>(&from), fromlen);
        }
    });
    TestProc over, within;
    EXPECT_EQ(run_command(over, {GREETER_CLIENT_BIN, "--udp", "--max-bytes", "1999", "127.0.0.1",
                                  std::to_string(port)},
                          10000),
              1);
    EXPECT_NE(over.err().find("the reply of 2000 bytes is longer than 1999 bytes"), std::string::npos)
        << over.err();
    EXPECT_EQ(over.out(), "");
    EXPECT_EQ(run_command(within, {GREETER_CLIENT_BIN, "--udp", "--max-bytes", "2000", "127.0.0.1",
                                    std::to_string(port)},
                          10000),
              0)
        << within.err();
    EXPECT_EQ(within.out(), std::string(2000, 'u') + "\n");
    stop = true;
    answer.join();
    close(fd);
}

// The TLS cases, with testproc's certificates.
class ClientBoundsTls : public ::testing::Test {
  protected:
    void SetUp() override
    {
        if (!tls_available())
            GTEST_SKIP() << "built without OpenSSL";
    }
    static std::string cert(const std::string &name) { return test_cert(name); }
};

// Before the fix, tls_read_until waited on the deadline only when no bytes were ready, and
// the client doubled its buffer without end: 29.9 s and 9.3 GB against -t 3s.
TEST_F(ClientBoundsTls, EndlessTlsStreamStopsAtTheDeadlineAndTheCap)
{
    char err[TLS_ERRLEN];
    tls_server_opts opts = {};
    std::string certfile = cert("server.pem"), keyfile = cert("server.key");
    opts.cert_file = certfile.c_str();
    opts.key_file = keyfile.c_str();
    tls_ctx *ctx = tls_ctx_new_server(&opts, err, sizeof(err));
    ASSERT_NE(ctx, nullptr) << err;
    {
        EndlessServer server("", ctx);
        ASSERT_TRUE(server.ok());
        ClientRun run = run_client_discarding({"--tls", "--tls-ca", cert("ca.pem"), "-t", "1s",
                                               "--max-bytes", "1073741824", "127.0.0.1",
                                               std::to_string(server.port())},
                                              15000);
        expect_stopped_by_a_bound(run);
    }
    {
        EndlessServer server("", ctx);
        ASSERT_TRUE(server.ok());
        ClientRun run = run_client_discarding(
            {"--tls", "--tls-ca", cert("ca.pem"), "127.0.0.1", std::to_string(server.port())}, 15000);
        EXPECT_EQ(run.status, 1) << run.err;
        EXPECT_LT(run.maxrss_kb, kMaxRssKb);
        EXPECT_NE(run.err.find("the greeting is longer than 1048576 bytes"), std::string::npos)
            << run.err;
    }
    tls_ctx_free(ctx);
}

// Against the real server: a greeting of exactly the cap prints whole, one byte more fails,
// in plain text and over TLS.
TEST_F(ClientBoundsTls, GreetingAtTheCapPrintsWholeAndOneByteMoreFails)
{
    TempDir dir;
    std::string file = dir.path("greeting");
    std::ofstream(file) << std::string(kServerCap, 'g');
    for (bool tls : {false, true}) {
        std::vector<std::string> server_args = {"--greeting-file", file};
        std::vector<std::string> client_args = {GREETER_CLIENT_BIN};
        if (tls) {
            server_args.insert(server_args.end(), {"--tls-cert", cert("server.pem"), "--tls-key",
                                                   cert("server.key")});
            client_args.insert(client_args.end(), {"--tls", "--tls-ca", cert("ca.pem")});
        }
        TestProc server;
        int port = start_server(server, server_args);
        ASSERT_GT(port, 0) << server.err();
        client_args.insert(client_args.end(), {"127.0.0.1", std::to_string(port)});
        TestProc whole;
        EXPECT_EQ(run_command(whole, client_args, 15000), 0) << whole.err();
        EXPECT_EQ(whole.out().size(), kServerCap + 1) << "tls=" << tls;
        client_args.insert(client_args.begin() + 1, {"--max-bytes", std::to_string(kServerCap - 1)});
        TestProc cut;
        EXPECT_EQ(run_command(cut, client_args, 15000), 1);
        EXPECT_NE(cut.err().find("the greeting is longer than 1048575 bytes"), std::string::npos)
            << "tls=" << tls << ": " << cut.err();
        EXPECT_LT(cut.out().size(), kServerCap);
        stop_server(server);
    }
}

TEST(ClientBounds, MaxBytesIsCheckedAsUsage)
{
    for (const char *bad : {"0", "-1", "lots", "2147483648"}) {
        TestProc c;
        EXPECT_EQ(run_command(c, {GREETER_CLIENT_BIN, "--max-bytes", bad, "127.0.0.1", "1"}), 2) << bad;
        EXPECT_NE(c.err().find("--max-bytes"), std::string::npos) << c.err();
    }
}

} // namespace
