// testproc.h -- start a built greeter binary, read its output, signal it, reap it (for tests).
#pragma once

#include <sys/types.h>

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

    // For servers: waits for "listening on HOST:PORT" and returns the port, or -1.
    int wait_listening(int timeout_ms = 10000);

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
    std::string out_, err_, error_;
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

// Starts greeter-server on 127.0.0.1, port 0, --quiet, plus extra; returns its port or -1.
int start_server(TestProc &server, const std::vector<std::string> &extra = {});

// Sends SIGTERM, expects a clean exit within 20 s (a failed expectation otherwise) and
// returns everything the server printed on stdout.
std::string stop_server(TestProc &server);

// A TCP connection to 127.0.0.1:port, from the loopback address source when given (all of
// 127.0.0.0/8 is ours), with a receive buffer of rcvbuf bytes when > 0; -1 on failure.
int connect_tcp(int port, const char *source = nullptr, int rcvbuf = 0);

// Reads fd until EOF, an error or timeout_ms, then closes it; returns what arrived.
std::string read_to_eof(int fd, int timeout_ms = 15000);
