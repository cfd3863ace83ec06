// testproc.cc -- what the tests share: starting the built binaries, talking to them, scratch
// space and certificates that remove themselves.
#include "testproc.h"

#include "clock.h"
#include "sockdiag.h"
#include "tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

const std::string kGreeting = "Thank you for connecting";

static long long now_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

TestProc::~TestProc()
{
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0)
        close(out_fd_);
    if (err_fd_ >= 0)
        close(err_fd_);
}

bool TestProc::start(const std::vector<std::string> &argv, const std::string *stdin_text)
{
    int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
        error_ = std::string("pipe: ") + strerror(errno);
        return false;
    }
    if (stdin_text && pipe2(in_pipe, O_CLOEXEC) < 0) {
        error_ = std::string("pipe: ") + strerror(errno);
        return false;
    }
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) {
        error_ = std::string("fork: ") + strerror(errno);
        return false;
    }
    if (pid_ == 0) {
        int in = stdin_text ? in_pipe[0] : open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (stdin_text) {
        close(in_pipe[0]);
        ssize_t ignored = write(in_pipe[1], stdin_text->data(), stdin_text->size());
        (void)ignored;
        close(in_pipe[1]);
    }
    return true;
}

bool TestProc::pump(int timeout_ms)
{
    struct pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (out_fd_ < 0 && err_fd_ < 0)
        return false;
    int n = poll(fds, 2, timeout_ms);
    if (n <= 0)
        return true;
    char buf[65536];
    int *fdp[2] = {&out_fd_, &err_fd_};
    std::string *dst[2] = {&out_, &err_};
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t got = read(fds[i].fd, buf, sizeof(buf));
        if (got > 0) {
            dst[i]->append(buf, (size_t)got);
        } else if (got == 0 || errno != EINTR) {
            close(*fdp[i]);
            *fdp[i] = -1;
        }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
}

std::string TestProc::wait_for_line(const std::string &prefix, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        size_t nl;
        while ((nl = out_.find('\n', out_scan_)) != std::string::npos) {
            std::string line = out_.substr(out_scan_, nl - out_scan_);
            out_scan_ = nl + 1;
            if (line.compare(0, prefix.size(), prefix) == 0)
                return line;
        }
        long long left = deadline - now_ms();
        if (left <= 0 || out_fd_ < 0)
            return "";
        pump((int)left);
    }
}

int TestProc::wait_listening(int timeout_ms)
{
    listening_ = wait_for_line("listening on ", timeout_ms);
    if (listening_.empty())
        return -1;
    size_t colon = listening_.rfind(':');
    return colon == std::string::npos ? 0 : atoi(listening_.c_str() + colon + 1);
}

void TestProc::send_signal(int sig)
{
    if (pid_ > 0)
        kill(pid_, sig);
}

int TestProc::wait_exit(int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            while (pump(50)) {
            }
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            return 128 + WTERMSIG(status);
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
            return -1;
        }
        if (!pump(left < 20 ? (int)left : 20))
            usleep(5000); // pipes closed but the child has not exited yet
    }
}

int run_command(TestProc &proc, const std::vector<std::string> &argv, int timeout_ms)
{
    if (!proc.start(argv))
        return -1;
    return proc.wait_exit(timeout_ms);
}

std::string fetch_greeting(int port, int timeout_ms, std::string *error,
                           const std::string &send_first, const char *host)
{
    std::string got;
    int fd = socket(strchr(host, ':') ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (strchr(host, ':')) {
        auto *s6 = reinterpret_cast<struct sockaddr_in6 *>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, host, &s6->sin6_addr);
        len = sizeof(*s6);
    } else {
        auto *s4 = reinterpret_cast<struct sockaddr_in *>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, host, &s4->sin_addr);
        len = sizeof(*s4);
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<struct sockaddr *>(&ss), len) < 0) {
        if (error)
            *error = std::string("connect: ") + strerror(errno);
        close(fd);
        return "";
    }
    if (!send_first.empty() && send(fd, send_first.data(), send_first.size(), MSG_NOSIGNAL) < 0) {
        if (error)
            *error = std::string("send: ") + strerror(errno);
    }
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
            got.append(buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && error)
            *error = std::string("recv: ") + strerror(errno);
        break;
    }
    close(fd);
    return got;
}

long summary_field(const std::string &text, const std::string &key)
{
    std::string needle = key + "=";
    size_t at = 0;
    while ((at = text.find(needle, at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == ' ' || text[at - 1] == '\n' || text[at - 1] == ':') {
            return strtol(text.c_str() + at + needle.size(), nullptr, 10);
        }
        at += needle.size();
    }
    return -1;
}

long summary_unaccounted(const std::string &text)
{
    long accepted = summary_field(text, "accepted");
    if (accepted < 0)
        return -1;
    long sum = 0;
    for (const char *key : {"greeted", "rejected", "failed", "denied"})
        sum += std::max(0L, summary_field(text, key));
    return accepted - sum;
}

int start_server(TestProc &server, const std::vector<std::string> &args, bool quiet)
{
    std::vector<std::string> argv = {GREETER_SERVER_BIN, "-H", "127.0.0.1", "-p", "0"};
    if (quiet)
        argv.push_back("--quiet");
    argv.insert(argv.end(), args.begin(), args.end());
    if (!server.start(argv))
        return -1;
    return server.wait_listening();
}

std::string stop_server(TestProc &server, int timeout_ms)
{
    server.send_signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(timeout_ms), 0) << server.err();
    return server.out();
}

int run_client(TestProc &client, const std::vector<std::string> &args, int timeout_ms)
{
    std::vector<std::string> argv = {GREETER_CLIENT_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(client, argv, timeout_ms);
}

int closed_port()
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) < 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) < 0)
        ADD_FAILURE() << "closed_port: " << strerror(errno);
    if (fd >= 0)
        close(fd);
    return ntohs(sin.sin_port);
}

int accept_backlog(int port)
{
    int queued = sockdiag_tcp_accept_queue((unsigned)port);
    if (queued == -2)
        ADD_FAILURE() << "accept_backlog: the kernel's sock_diag did not answer";
    return queued < 0 ? -1 : queued;
}

bool wait_until(const std::function<bool()> &cond, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (cond())
            return true;
        if (now_ms() >= deadline)
            return false;
        usleep(2000);
    }
}

TempDir::TempDir() : TempDir(nullptr) {}

TempDir::TempDir(const char *base) : owner_(getpid())
{
    if (base == nullptr)
        base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/greeter-test-XXXXXX";
    if (mkdtemp(&tmpl[0]))
        dir_ = tmpl;
    else
        ADD_FAILURE() << "mkdtemp " << tmpl << ": " << strerror(errno);
}

TempDir::~TempDir()
{
    std::error_code ignored;
    if (!dir_.empty() && getpid() == owner_)
        std::filesystem::remove_all(dir_, ignored);
}

// The test certificates (tests/make-test-certs) are made once per build tree and shared by
// every test program: made per program, they cost a fifth of a second of CPU in each of the
// hundreds of test processes that speak TLS. A set is used for a week (its certificates last 30
// days), then a new one is made beside it, and sets older than two weeks are removed. A lock
// file keeps test programs that start together from making a set each.
static std::string shared_cert_dir()
{
    namespace fs = std::filesystem;
    const long week = 7L * 24 * 3600;
    const fs::path base = GREETER_BINARY_DIR "/tests/test-certs";
    std::error_code ec;
    fs::create_directories(base, ec);
    int lock = open((base / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) < 0) {
        ADD_FAILURE() << "lock " << (base / ".lock") << ": " << strerror(errno);
        if (lock >= 0)
            close(lock);
        return "";
    }
    long now = (long)time(nullptr), newest_made = 0;
    fs::path newest;
    for (const auto &entry : fs::directory_iterator(base, ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("set-", 0) != 0)
            continue;
        long made = std::strtol(name.c_str() + 4, nullptr, 10);
        if (now - made > 2 * week)
            fs::remove_all(entry.path(), ec);
        else if (made > newest_made && fs::exists(entry.path() / "ready")) {
            newest_made = made;
            newest = entry.path();
        }
    }
    if (newest.empty() || now - newest_made > week) {
        fs::path dir = base / ("set-" + std::to_string(now));
        fs::remove_all(dir, ec);
        fs::create_directory(dir, ec);
        TestProc make;
        int rc = run_command(make, {"/bin/bash", GREETER_SOURCE_DIR "/tests/make-test-certs", dir.string()},
                             60000);
        if (rc == 0 && std::ofstream(dir / "ready").good()) {
            newest = dir;
        } else {
            ADD_FAILURE() << "tests/make-test-certs exited " << rc << ": " << make.err();
            fs::remove_all(dir, ec);
            newest.clear();
        }
    }
    close(lock); // and with it the lock
    return newest.string();
}

std::string test_cert(const std::string &name)
{
    static const std::string dir = shared_cert_dir();
    if (dir.empty())
        throw std::runtime_error("no test certificates");
    return dir + "/" + name;
}

int connect_tcp(int port, const char *source, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in src = {}, dst = {};
    src.sin_family = dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (source && (inet_pton(AF_INET, source, &src.sin_addr) != 1 ||
                   bind(fd, reinterpret_cast<sockaddr *>(&src), sizeof(src)) < 0)) {
        close(fd);
        return -1;
    }
    if (connect(fd, reinterpret_cast<sockaddr *>(&dst), sizeof(dst)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int connect_unix(const std::string &path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

std::string read_to_eof(int fd, int timeout_ms)
{
    std::string got;
    char buf[65536];
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        got.append(buf, (size_t)n);
    }
    close(fd);
    return got;
}

TlsTestClient::TlsTestClient()
{
    tls_client_opts opts = {};
    std::string ca = test_cert("ca.pem");
    opts.ca_file = ca.c_str();
    char err[TLS_ERRLEN];
    ctx_ = tls_ctx_new_client(&opts, err, sizeof(err));
    EXPECT_NE(ctx_, nullptr) << err;
}

TlsTestClient::~TlsTestClient()
{
    close();
    tls_ctx_free(ctx_);
}

bool TlsTestClient::connect(int port, int rcvbuf)
{
    return attach(connect_tcp(port, nullptr, rcvbuf));
}

bool TlsTestClient::attach(int fd)
{
    char err[TLS_ERRLEN] = "no socket";
    fd_ = fd;
    conn_ = fd_ >= 0 && ctx_ ? tls_conn_new(ctx_, fd_, "localhost", err, sizeof(err)) : nullptr;
    EXPECT_NE(conn_, nullptr) << err;
    return conn_ != nullptr;
}

bool TlsTestClient::hello()
{
    // WANT_READ: the ClientHello is out. DONE when the server answered within this very step
    // (a slow client, under a sanitizer) and its Finished went out too.
    tls_io_result r = tls_handshake(conn_);
    EXPECT_TRUE(r == TLS_IO_WANT_READ || r == TLS_IO_DONE) << tls_last_error(conn_);
    return r == TLS_IO_WANT_READ || r == TLS_IO_DONE;
}

static uint64_t deadline_in(int ms)
{
    return clock_now_ns() + (uint64_t)ms * 1000000u;
}

bool TlsTestClient::handshake(int timeout_ms)
{
    char err[TLS_ERRLEN];
    bool ok = tls_handshake_until(conn_, deadline_in(timeout_ms), err, sizeof(err)) == 0;
    EXPECT_TRUE(ok) << err;
    return ok;
}

long TlsTestClient::read_greeting(std::string *greeting, size_t max_bytes, int timeout_ms)
{
    std::string buf(max_bytes + 1, '\0');
    size_t got = 0;
    char err[TLS_ERRLEN];
    int rc = tls_read_until_eof(conn_, &buf[0], buf.size(), &got, deadline_in(timeout_ms), err,
                                sizeof(err));
    EXPECT_EQ(rc, 0) << err;
    if (greeting)
        *greeting = buf.substr(0, got);
    return rc == 0 ? (long)got : -1;
}

void TlsTestClient::close()
{
    tls_conn_free(conn_);
    conn_ = nullptr;
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}
