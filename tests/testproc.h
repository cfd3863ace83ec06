// testproc.h -- what the tests share: starting the built binaries (one way each), talking to
// them, waiting on something observable, and scratch space and certificates that remove
// themselves.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

// Paths of the built tools, passed in by tests/CMakeLists.txt.
#ifndef GREETER_SERVER_BIN
#define GREETER_SERVER_BIN "greeter-server"
#endif
#ifndef GREETER_CLIENT_BIN
#define GREETER_CLIENT_BIN "greeter-client"
#endif
#ifndef GREETER_LOADGEN_BIN
#define GREETER_LOADGEN_BIN "loadgen"
#endif

// A child process with its stdout and stderr captured through pipes. The destructor kills
// (SIGKILL) and reaps a child still running, so a failed assertion never leaks a process.
class TestProc {
  public:
    TestProc() = default;
    ~TestProc();
    TestProc(const TestProc &) = delete;
    TestProc &operator=(const TestProc &) = delete;

    // Starts argv[0] with the given arguments; false (with a message in error()) on failure.
    // stdin is /dev/null unless stdin_text is given, which is written then closed.
    bool start(const std::vector<std::string> &argv, const std::string *stdin_text = nullptr);

    // Reads until a stdout line starting with prefix arrives; returns that line without the
    // newline, or "" after timeout_ms or when the child closes stdout first.
    std::string wait_for_line(const std::string &prefix, int timeout_ms);

    // For servers: waits for "listening on ADDRESS" and returns the port: 0 for a UNIX
    // socket (no port), -1 when the line did not come. The line stays in listening().
    int wait_listening(int timeout_ms = 10000);
    const std::string &listening() const { return listening_; }

    void send_signal(int sig);

    // Waits for exit, collecting output meanwhile. Returns the exit code, 128+signal when it
    // died of a signal, or -1 when it was still running after timeout_ms (it is then killed).
    int wait_exit(int timeout_ms);

    pid_t pid() const { return pid_; }
    const std::string &out() const { return out_; }
    const std::string &err() const { return err_; }
    const std::string &error() const { return error_; }

  private:
    // Reads whatever is available from the pipes within timeout_ms; false when both closed.
    bool pump(int timeout_ms);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    size_t out_scan_ = 0; // how much of out_ wait_for_line has already looked at
    std::string out_, err_, error_, listening_;
};

// Runs a command to completion (bounded by timeout_ms) and returns its exit code; output in proc.
int run_command(TestProc &proc, const std::vector<std::string> &argv, int timeout_ms = 30000);

// Connects to 127.0.0.1:port (or the given host) and reads until EOF; "" with errno-ish
// text in *error on failure. Bounded by timeout_ms.
std::string fetch_greeting(int port, int timeout_ms = 5000, std::string *error = nullptr,
                           const std::string &send_first = "", const char *host = "127.0.0.1");

// Looks up "key=N" in text (e.g. the server's summary line); -1 when absent.
long summary_field(const std::string &text, const std::string &key);

// How far the summary in text is from adding up: accepted - (greeted + rejected + failed +
// denied). 0 when every accepted connection is accounted for.
long summary_unaccounted(const std::string &text);

// How many connections wait in the kernel's accept queue of the TCP listener(s) on port (all
// of them, for SO_REUSEPORT groups), from the kernel's sock_diag; -1 when none listens there.
// 0 means the server has accepted every client that connected: the observable sign that
// connections have reached the server's queue or workers.
int accept_backlog(int port);

// What greeter-server sends unless told otherwise.
extern const std::string kGreeting;

// THE way tests start greeter-server: "-H 127.0.0.1 -p 0 --quiet" followed by args, which
// may override them (the last -H wins: {"-H", "::1"}; {"--unix", path} listens there
// instead). Waits for "listening on" and returns the port (0 for a UNIX socket), or -1 with
// the reason in server.err(). quiet=false leaves out --quiet, for tests that read the
// server's informational log lines.
int start_server(TestProc &server, const std::vector<std::string> &args = {}, bool quiet = true);

// THE way tests stop one: SIGTERM, a clean exit (0) expected within timeout_ms (a failed
// expectation otherwise); returns everything the server printed on stdout (the summary).
std::string stop_server(TestProc &server, int timeout_ms = 20000);

// Runs greeter-client with args to completion; its exit code, its output in client.
int run_client(TestProc &client, const std::vector<std::string> &args, int timeout_ms = 20000);

// A port on 127.0.0.1 with nothing listening (bound, read, closed).
int closed_port();

// Polls cond every few milliseconds until it holds (true) or timeout_ms passes (false): the
// way to wait for something observable instead of sleeping and hoping.
bool wait_until(const std::function<bool()> &cond, int timeout_ms = 10000);

// A fresh directory under $TMPDIR (else /tmp), removed with everything in it when the object
// goes, whether the test passed or failed (a forked child never removes its parent's). The
// path stays short: UNIX socket paths must fit in 108 bytes.
class TempDir {
  public:
    TempDir();
    // Under base instead of $TMPDIR: for a directory that a daemon dropping to another user
    // must reach, which a private $TMPDIR (mode 0700) would keep it from.
    explicit TempDir(const char *base);
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &dir() const { return dir_; }
    std::string path(const std::string &name) const { return dir_ + "/" + name; }

  private:
    std::string dir_;
    pid_t owner_;
};

// A file of the test certificates that tests/make-test-certs writes (ca.pem, server.pem,
// server.key, client.pem, ...). They are made on first use, once per test binary, in a
// TempDir removed when the binary exits. A failed make is a fatal test failure.
std::string test_cert(const std::string &name);

// A TCP connection to 127.0.0.1:port, from the loopback address source when given (all of
// 127.0.0.0/8 is ours), with a receive buffer of rcvbuf bytes when > 0; -1 on failure.
int connect_tcp(int port, const char *source = nullptr, int rcvbuf = 0);

// A connection to the UNIX stream socket at path; -1 on failure.
int connect_unix(const std::string &path);

// Reads fd until EOF, an error or timeout_ms, then closes it; returns what arrived.
std::string read_to_eof(int fd, int timeout_ms = 15000);

struct tls_ctx;
struct tls_conn;

// A TLS client of a test server, trusting the test CA, one step at a time where a test needs
// it (the ClientHello alone, then the rest). Failures are test failures with OpenSSL's reason.
class TlsTestClient {
  public:
    TlsTestClient();
    ~TlsTestClient();
    TlsTestClient(const TlsTestClient &) = delete;
    TlsTestClient &operator=(const TlsTestClient &) = delete;

    // Connects (with a receive buffer of rcvbuf bytes when > 0) and starts TLS on the socket;
    // or takes over an fd already connected.
    bool connect(int port, int rcvbuf = 0);
    bool attach(int fd);
    // Sends the ClientHello (the handshake's first step), without waiting for the answer (a
    // server quick enough may have answered within the step: then the handshake is done).
    bool hello();
    bool handshake(int timeout_ms = 10000);
    // Reads until the server's close_notify, at most max_bytes: what came, or -1 on failure.
    long read_greeting(std::string *greeting = nullptr, size_t max_bytes = 4u << 20,
                       int timeout_ms = 10000);
    // The same, for a greeting of ordinary size: its text ("" on failure).
    std::string greeting()
    {
        std::string text;
        read_greeting(&text);
        return text;
    }
    int fd() const { return fd_; }
    // Closes the socket without close_notify (the server sees its EOF).
    void close();

  private:
    tls_ctx *ctx_ = nullptr;
    tls_conn *conn_ = nullptr;
    int fd_ = -1;
};
