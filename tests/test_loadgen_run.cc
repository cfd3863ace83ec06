// test_loadgen_run.cc -- loadgen as a process against greeter-server and small in-test servers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hist.h"
#include "loadgen_inproc.h"
#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

// A one-thread TCP server on 127.0.0.1 port 0 for the cases greeter-server does not cover.
// handle(fd) serves one accepted connection (the server closes it after); pause_ms, when set,
// makes the server stop accepting once, pause_after_ms after its first accept.
class TinyServer {
  public:
    explicit TinyServer(std::function<void(int)> handle, int pause_after_ms = -1,
                        int pause_ms = 0)
        : handle_(std::move(handle)), pause_after_ms_(pause_after_ms), pause_ms_(pause_ms)
    {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin = {};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(sin);
        int one = 1;
        setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        bind(listen_fd_, reinterpret_cast<sockaddr *>(&sin), sizeof(sin));
        listen(listen_fd_, 1024);
        getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&sin), &len);
        port_ = ntohs(sin.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TinyServer()
    {
        stop_ = true;
        thread_.join();
        for (int fd : held_)
            close(fd);
        close(listen_fd_);
    }
    int port() const { return port_; }
    // For handlers that keep a connection open until the server ends.
    void hold(int fd) { held_.push_back(fd); }

  private:
    void serve()
    {
        using clock = std::chrono::steady_clock;
        clock::time_point first;
        bool started = false, paused = false;
        while (!stop_) {
            pollfd p = {listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0)
                continue;
            if (started && !paused && pause_after_ms_ >= 0 &&
                clock::now() - first >= std::chrono::milliseconds(pause_after_ms_)) {
                paused = true;
                std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms_));
            }
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            if (!started) {
                started = true;
                first = clock::now();
            }
            timeval tv = {2, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            handle_(fd);
            if (held_.empty() || held_.back() != fd)
                close(fd);
        }
    }

    std::function<void(int)> handle_;
    int pause_after_ms_, pause_ms_;
    int listen_fd_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::vector<int> held_;
    std::thread thread_;
};

void greet(int fd) { send(fd, kGreeting.data(), kGreeting.size(), MSG_NOSIGNAL); }

std::string read_text(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The exact bucket dump inside an .hgrm text ("" when absent).
std::string raw_dump(const std::string &text)
{
    size_t at = text.find("#greeter-hist v1");
    return at == std::string::npos ? "" : text.substr(at);
}

uint64_t hgrm_count(const std::string &path)
{
    std::string text = read_text(path);
    hist *h = hist_create();
    char err[HIST_ERRLEN];
    EXPECT_EQ(hist_parse(text.data(), text.size(), h, err, sizeof(err)), 0) << path << ": " << err;
    uint64_t n = hist_count(h);
    hist_destroy(h);
    return n;
}

TEST(LoadgenRun, ExactCountAgreesWithServerSummary)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(loadgen(lg, {"-n", "5000", "-c", "200", "-q", "--json", "-", target(port)}), 0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 5000) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"starts"}), 5000);
    EXPECT_EQ(json_number(lg.out(), {"errors", "total"}), 0);
    EXPECT_EQ(json_number(lg.out(), {"bytes_read"}), 5000.0 * kGreeting.size());
    EXPECT_EQ(json_number(lg.out(), {"concurrency", "peak"}), 200);
    EXPECT_EQ(json_number(lg.out(), {"latency_us", "greeting", "count"}), 5000);
    EXPECT_EQ(json_number(lg.out(), {"latency_us", "connect", "count"}), 5000);
    // The human report went to stderr since the JSON took stdout.
    EXPECT_NE(lg.err().find("Percentage of the greetings served within"), std::string::npos);
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "greeted"), 5000) << summary;
}

TEST(LoadgenRun, JsonParsesAndHasTheFields)
{
    TestProc server, lg, python;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"-n", "300", "-c", "10", "-q", "--json", "-", target(port)}), 0);
    const std::string check =
        "import json, sys\n"
        "d = json.load(sys.stdin)\n"
        "for k in ['greetings', 'errors', 'duration_s', 'rate', 'latency_us', 'cpu']:\n"
        "    assert k in d, k\n"
        "for cause in ['refused', 'reset', 'timeout', 'addr_unavail', 'fd_limit', "
        "'bad_greeting']:\n"
        "    assert isinstance(d['errors'][cause], int), cause\n"
        "for phase in ['connect', 'first_byte', 'greeting']:\n"
        "    for f in ['p50', 'p90', 'p99', 'p999', 'max', 'mean']:\n"
        "        assert isinstance(d['latency_us'][phase][f], (int, float)), (phase, f)\n"
        "    p = d['latency_us'][phase]\n"
        "    assert p['p50'] <= p['p90'] <= p['p99'] <= p['p999'] <= p['max'], phase\n"
        "for f in ['user_s', 'sys_s', 'us_per_greeting']:\n"
        "    assert isinstance(d['cpu'][f], (int, float)), f\n"
        "assert d['greetings'] == 300 and d['rate'] > 0 and d['duration_s'] > 0\n"
        "print('json ok')\n";
    const std::string &json = lg.out();
    ASSERT_TRUE(python.start({"/usr/bin/env", "python3", "-c", check}, &json)) << python.error();
    EXPECT_EQ(python.wait_exit(20000), 0) << python.err() << json;
    EXPECT_NE(python.out().find("json ok"), std::string::npos);
    stop_server(server);
}

TEST(LoadgenRun, WrongExpectCountsEveryGreetingAsBad)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    EXPECT_EQ(loadgen(lg, {"-n", "200", "-c", "20", "-q", "--expect", "Thank you for calling",
                           "--json", "-", target(port)}),
              1);
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 0) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"errors", "bad_greeting"}), 200);
    EXPECT_EQ(json_number(lg.out(), {"errors", "total"}), 200);
    TestProc right;
    EXPECT_EQ(loadgen(right, {"-n", "200", "-c", "20", "-q", "--expect", kGreeting, "--json", "-",
                              target(port)}),
              0);
    EXPECT_EQ(json_number(right.out(), {"greetings"}), 200) << right.out();
    // A longer expectation than the greeting: the server's close cuts it short.
    TestProc longer;
    EXPECT_EQ(loadgen(longer, {"-n", "50", "-q", "--expect", kGreeting + "!", "--json", "-",
                               target(port)}),
              1);
    EXPECT_EQ(json_number(longer.out(), {"errors", "bad_greeting"}), 50);
    stop_server(server);
}

TEST(LoadgenRun, ClosedPortGivesRefusedAndExit1)
{
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "20", "-c", "4", "-q", "--json", "-", target(closed_port())}), 1);
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 0) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"errors", "refused"}), 20);
    EXPECT_NE(lg.err().find("refused 20"), std::string::npos) << lg.err();
}

TEST(LoadgenRun, HgrmHalvesMergeToTheWholeRunsCounts)
{
    TestProc server;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    TempDir dir;
    TestProc whole, half1, half2;
    ASSERT_EQ(loadgen(whole, {"-n", "2000", "-c", "20", "-q", "--hgrm", dir.path("whole"),
                              target(port)}),
              0);
    // The halves run at the same time, as two processes splitting one run would.
    ASSERT_TRUE(half1.start({GREETER_LOADGEN_BIN, "-n", "1000", "-c", "10", "-q", "--hgrm",
                             dir.path("half1"), target(port)}));
    ASSERT_TRUE(half2.start({GREETER_LOADGEN_BIN, "-n", "1000", "-c", "10", "-q", "--hgrm",
                             dir.path("half2"), target(port)}));
    ASSERT_EQ(half1.wait_exit(30000), 0) << half1.err();
    ASSERT_EQ(half2.wait_exit(30000), 0) << half2.err();
    for (std::string phase : {"connect", "first_byte", "greeting"}) {
        TestProc merge;
        std::string merged = dir.path(phase + "-merged.hgrm");
        ASSERT_EQ(loadgen(merge, {"merge", "-o", merged, dir.path("half1/" + phase + ".hgrm"),
                                  dir.path("half2/" + phase + ".hgrm")}),
                  0)
            << merge.err();
        EXPECT_EQ(hgrm_count(merged), 2000u) << phase;
        EXPECT_EQ(hgrm_count(merged), hgrm_count(dir.path("whole/" + phase + ".hgrm")));
        EXPECT_NE(merge.err().find("merged 2 files: count 2000"), std::string::npos)
            << merge.err();
    }
    // Exactness: merging in-process gives the same buckets as 'loadgen merge'.
    hist *sum = hist_create();
    char err[HIST_ERRLEN];
    for (std::string half : {"half1", "half2"}) {
        std::string text = read_text(dir.path(half + "/greeting.hgrm"));
        ASSERT_EQ(hist_parse(text.data(), text.size(), sum, err, sizeof(err)), 0) << err;
    }
    char *buf = nullptr;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    hist_write_raw(sum, mem);
    fclose(mem);
    EXPECT_EQ(raw_dump(read_text(dir.path("greeting-merged.hgrm"))), std::string(buf, len));
    free(buf);
    hist_destroy(sum);
    stop_server(server);
}

TEST(LoadgenRun, MergeRejectsMalformedFiles)
{
    TempDir dir;
    std::ofstream(dir.path("bad.hgrm")) << "#greeter-hist v1 highest=3600000000 digits=3 "
                                           "total=5 min=1 max=1\n#c 1:4\n#greeter-hist end\n";
    TestProc merge, missing, usage;
    EXPECT_EQ(loadgen(merge, {"merge", dir.path("bad.hgrm")}), 1);
    EXPECT_NE(merge.err().find("bad.hgrm: line 3:"), std::string::npos) << merge.err();
    EXPECT_EQ(loadgen(missing, {"merge", dir.path("none.hgrm")}), 1);
    EXPECT_EQ(loadgen(usage, {"merge"}), 2);
}

TEST(LoadgenRun, OpenLoopStartsMatchRateTimesDuration)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"-R", "400", "-d", "1", "-q", "--json", "-", target(port)}), 0)
        << lg.err();
    double starts = json_number(lg.out(), {"starts"});
    EXPECT_NEAR(starts, 400, 2) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}) + json_number(lg.out(), {"errors", "total"}) +
                  json_number(lg.out(), {"unfinished"}),
              starts);
    EXPECT_NE(lg.out().find("\"greeting_uncorrected\""), std::string::npos);
    TestProc poisson;
    ASSERT_EQ(loadgen(poisson, {"-R", "1000", "--poisson", "--seed", "9", "-d", "1", "-q",
                                "--json", "-", target(port)}),
              0);
    // 1000 expected; a Poisson count has a standard deviation of about 32.
    EXPECT_NEAR(json_number(poisson.out(), {"starts"}), 1000, 160) << poisson.out();
    stop_server(server);
}

// The server stops accepting for 500 ms. With one connection allowed in flight, the open
// loop's starts fall behind their timetable: the corrected latency must show the stall even
// though each connection, once started, was quick.
TEST(LoadgenRun, StalledServerShowsInCorrectedLatency)
{
    TinyServer stalling(greet, 400, 500);
    TestProc lg;
    ASSERT_EQ(loadgen(lg, {"-R", "100", "-c", "1", "-t", "1", "-d", "2", "-q", "--json", "-",
                           target(stalling.port())}),
              0)
        << lg.err();
    const std::string &j = lg.out();
    double corrected_p90 = json_number(j, {"latency_us", "greeting", "p90"});
    double corrected_max = json_number(j, {"latency_us", "greeting", "max"});
    double uncorrected_p90 = json_number(j, {"latency_us", "greeting_uncorrected", "p90"});
    EXPECT_GE(corrected_max, 400000) << j;
    EXPECT_GE(corrected_p90, 150000) << j;
    EXPECT_LT(uncorrected_p90 * 3, corrected_p90) << "once started, connections were quick\n"
                                                  << j;
    EXPECT_GE(json_number(j, {"late_starts"}), 25) << j;
    EXPECT_EQ(json_number(j, {"errors", "total"}), 0);
}

TEST(LoadgenRun, SilentServerTimesOut)
{
    TinyServer *self = nullptr;
    TinyServer silent([&self](int fd) { self->hold(fd); });
    self = &silent;
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "3", "-c", "3", "--timeout", "300ms", "-q", "--json", "-",
                           target(silent.port())}),
              1);
    EXPECT_EQ(json_number(lg.out(), {"errors", "timeout"}), 3) << lg.out();
    // Established but never greeted: exactly what the queueing figure is for.
    EXPECT_EQ(json_number(lg.out(), {"peak_established_not_greeted"}), 3);
}

TEST(LoadgenRun, SendPayloadThenReadTheAnswer)
{
    TinyServer upper([](int fd) {
        std::string line;
        char ch;
        while (line.size() < 100 && recv(fd, &ch, 1, 0) == 1 && ch != '\n')
            line += static_cast<char>(toupper(ch));
        line += '\n';
        send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    });
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "40", "-c", "4", "-q", "--send", "ping\\n", "--expect",
                           "PING\\n", "--json", "-", target(upper.port())}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 40) << lg.out();
}

TEST(LoadgenRun, SourceAddressesAreUsed)
{
    TestProc server, lg;
    int port = start_server(server, {"--access-log"});
    ASSERT_GT(port, 0);
    EXPECT_EQ(loadgen(lg, {"-n", "20", "-c", "2", "-q", "--source", "127.0.0.2,127.0.0.3",
                           target(port)}),
              0)
        << lg.err();
    TestProc cidr;
    EXPECT_EQ(loadgen(cidr, {"-n", "8", "-c", "2", "-q", "--source", "127.0.3.0/30",
                             target(port)}),
              0)
        << cidr.err();
    stop_server(server);
    std::string log = server.out() + server.err();
    for (const char *ip : {"'127.0.0.2'", "'127.0.0.3'", "'127.0.3.1'", "'127.0.3.2'"})
        EXPECT_NE(log.find(ip), std::string::npos) << ip << " not in:\n" << log.substr(0, 2000);
    EXPECT_EQ(log.find("'127.0.3.0'"), std::string::npos) << "network address skipped";
}

TEST(LoadgenRun, CsvProgressAndWarmup)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    TempDir dir;
    ASSERT_EQ(loadgen(lg, {"-d", "1.2", "--warmup", "300ms", "-c", "4", "--csv",
                           dir.path("out.csv"), "--json", dir.path("out.json"), target(port)}),
              0)
        << lg.err();
    std::string csv = read_text(dir.path("out.csv"));
    EXPECT_EQ(csv.rfind("phase,count,min_us,p50_us,p90_us,p99_us,p999_us,max_us,mean_us,", 0), 0u)
        << csv;
    for (const char *row : {"\nconnect,", "\nfirst_byte,", "\ngreeting,"})
        EXPECT_NE(csv.find(row), std::string::npos) << csv;
    // Progress once a second on stderr, the warm-up marked.
    EXPECT_NE(lg.err().find("loadgen:    1.0s"), std::string::npos) << lg.err();
    std::string json = read_text(dir.path("out.json"));
    EXPECT_EQ(json_number(json, {"warmup_s"}), 0.3);
    EXPECT_GE(json_number(json, {"duration_s"}), 1.2) << json;
    EXPECT_GT(json_number(json, {"greetings"}), 0);
    // The human report is on stdout when the JSON goes to a file.
    EXPECT_NE(lg.out().find("greetings "), std::string::npos);
    stop_server(server);
}

TEST(LoadgenRun, ConnectRateCapIsReported)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"-n", "30", "-c", "10", "--connect-rate", "200", "--csv", "-",
                           target(port)}),
              0)
        << lg.err();
    EXPECT_NE(lg.err().find("connect rate capped at 200/s"), std::string::npos) << lg.err();
    EXPECT_EQ(lg.out().rfind("phase,count,", 0), 0u) << "CSV alone on stdout: " << lg.out();
    EXPECT_NE(lg.out().find("\ngreeting,30,"), std::string::npos) << lg.out();
    stop_server(server);
}

// Far more connections than descriptors or ports: loadgen says so before it starts.
TEST(LoadgenRun, WarnsWhenConnectionsCannotFit)
{
    const long connections = 60000;
    long lo = 0, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(fscanf(f, "%ld %ld", &lo, &hi), 2);
    fclose(f);
    rlimit lim;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
    TestProc lg;
    // -n 1: the warning is the point, not the run; nothing listens on the closed port.
    EXPECT_EQ(loadgen(lg, {"-n", "1", "-c", std::to_string(connections), "-q",
                           target(closed_port())}),
              1);
    EXPECT_EQ(lg.err().find("ephemeral ports") != std::string::npos, connections > hi - lo + 1)
        << lg.err();
    EXPECT_EQ(lg.err().find("descriptors") != std::string::npos,
              lim.rlim_max != RLIM_INFINITY && static_cast<long>(lim.rlim_max) < connections)
        << lg.err();
}

TEST(LoadgenRun, Ipv6Target)
{
    TestProc server, lg;
    int port = start_server(server, {"-H", "::1"});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(loadgen(lg, {"-n", "50", "-c", "5", "-q", "--json", "-",
                           "[::1]:" + std::to_string(port)}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 50);
    EXPECT_NE(lg.out().find("\"target\": \"[::1]:" + std::to_string(port)), std::string::npos);
    stop_server(server);
}

// SIGINT ends the run early but still reports, marked as interrupted.
TEST(LoadgenRun, InterruptStillReports)
{
    TestProc server, lg;
    int port = start_server(server, {"--access-log"});
    ASSERT_GT(port, 0);
    ASSERT_TRUE(lg.start({GREETER_LOADGEN_BIN, "-d", "60", "-c", "4", "-q", "--json", "-",
                          target(port)}));
    // Interrupted mid-run: once the server has seen its first connections.
    EXPECT_NE(server.wait_for_line("Got connection from", 10000), "");
    lg.send_signal(SIGINT);
    EXPECT_EQ(lg.wait_exit(10000), 0) << lg.err();
    EXPECT_NE(lg.out().find("\"interrupted\": true"), std::string::npos) << lg.out();
    EXPECT_GT(json_number(lg.out(), {"greetings"}), 0);
    EXPECT_LT(json_number(lg.out(), {"duration_s"}), 30);
    stop_server(server);
}

// The text report names the signal; a second stop signal while the connections drain (up to
// a second against a server that never answers) exits at once, 128 + it, with no report.
TEST(LoadgenRun, ReportNamesTheSignalAndASecondOneExitsAtOnce)
{
    TestProc server, lg;
    int port = start_server(server, {"--access-log"});
    ASSERT_GT(port, 0);
    ASSERT_TRUE(lg.start({GREETER_LOADGEN_BIN, "-d", "60", "-c", "4", target(port)}));
    EXPECT_NE(server.wait_for_line("Got connection from", 10000), "");
    lg.send_signal(SIGTERM);
    EXPECT_EQ(lg.wait_exit(10000), 0) << lg.err();
    EXPECT_NE(lg.out().find("(interrupted by SIGTERM)"), std::string::npos) << lg.out();
    stop_server(server);

    TinyServer *self = nullptr;
    std::atomic<int> accepted{0};
    TinyServer silent([&](int fd) {
        self->hold(fd);
        accepted++;
    });
    self = &silent;
    TestProc held;
    ASSERT_TRUE(held.start({GREETER_LOADGEN_BIN, "-d", "60", "-c", "4", "-q", "--json", "-",
                            target(silent.port())}));
    // Its workers connected, so the stop signals are blocked and waited for.
    EXPECT_TRUE(wait_until([&] { return accepted.load() == 4; }));
    // Two different signals stay pending apart: SIGINT stops the run, SIGTERM then ends it.
    held.send_signal(SIGINT);
    held.send_signal(SIGTERM);
    EXPECT_EQ(held.wait_exit(10000), 128 + SIGTERM) << held.err();
    EXPECT_NE(held.err().find("second stop signal (SIGTERM): exiting without a report"),
              std::string::npos) << held.err();
    EXPECT_EQ(held.out(), "");
}

// Under a low descriptor limit, the starts that cannot get a socket count as fd_limit errors
// and the rest still run: nothing is lost.
TEST(LoadgenRun, DescriptorLimitErrorsAreCounted)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0);
    std::string cmd = std::string("ulimit -n 40 && exec ") + GREETER_LOADGEN_BIN +
                      " -n 300 -c 100 -q --json - " + target(port);
    ASSERT_TRUE(lg.start({"/bin/sh", "-c", cmd}));
    EXPECT_EQ(lg.wait_exit(30000), 0) << lg.err();
    double fd_limit = json_number(lg.out(), {"errors", "fd_limit"});
    double greetings = json_number(lg.out(), {"greetings"});
    EXPECT_GT(fd_limit, 0) << lg.out();
    EXPECT_GT(greetings, 0);
    EXPECT_EQ(greetings + json_number(lg.out(), {"errors", "total"}), 300);
    EXPECT_NE(lg.err().find("descriptors"), std::string::npos) << lg.err();
    stop_server(server);
}

TEST(LoadgenUsage, BadFlagsExit2WithOneLine)
{
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"--nope", "127.0.0.1:1"},
             {"-c", "x", "127.0.0.1:1"},
             {"127.0.0.1"},
             {"127.0.0.1:1", "127.0.0.1:2"},
             {"--source", "10.0.0.0/24", "127.0.0.1:1"},
         }) {
        TestProc lg;
        EXPECT_EQ(loadgen(lg, args), 2) << lg.err();
        EXPECT_EQ(std::count(lg.err().begin(), lg.err().end(), '\n'), 1) << lg.err();
        EXPECT_NE(lg.err().find("loadgen --help"), std::string::npos) << lg.err();
    }
}

TEST(LoadgenUsage, HelpListsEveryOptionWithDefaults)
{
    TestProc lg;
    ASSERT_EQ(loadgen(lg, {"--help"}), 0);
    for (const char *opt : {"--connections", "--threads", "--rate", "--poisson", "--connect-rate",
                            "--seed", "--number", "--duration", "--warmup", "--timeout",
                            "--expect", "--send", "--source", "--quiet", "--json", "--csv",
                            "--hgrm", "--help", "loadgen merge"})
        EXPECT_NE(lg.out().find(opt), std::string::npos) << opt;
    EXPECT_NE(lg.out().find("default 10)"), std::string::npos);
    EXPECT_NE(lg.out().find("(default: 10s)"), std::string::npos);
}

TEST(LoadgenUsage, UnknownHostExits1)
{
    TestProc lg;
    // An empty label: the resolver refuses the name before any query leaves the machine.
    EXPECT_EQ(loadgen(lg, {"-n", "1", "nosuch..invalid:80"}), 1);
    EXPECT_NE(lg.err().find("nosuch..invalid"), std::string::npos) << lg.err();
}

} // namespace

namespace {

// With -d, the rate is what finished inside the window divided by the window itself: slow
// connections that finish after it are counted (greetings_after_window), not in the rate.
// Iterative with 200 ms of work and 5 in flight: one greeting every 200 ms, about 10 in the
// 2 s window (the rate said 7/s when it counted the ones waiting in the backlog too), and up
// to 5 more in the second after it.
TEST(LoadgenRate, DurationRunsDivideByThePlannedWindow)
{
    TestProc server;
    int port = start_server(server, {"-m", "iterative", "--work-us", "200000"});
    ASSERT_GT(port, 0) << server.err();
    TestProc lg;
    ASSERT_EQ(loadgen(lg, {"-c", "5", "-d", "2s", "--json", "-", "-q", "127.0.0.1:" + std::to_string(port)}), 0)
        << lg.err();
    double duration = json_number(lg.out(), {"duration_s"});
    double greetings = json_number(lg.out(), {"greetings"});
    double after = json_number(lg.out(), {"greetings_after_window"});
    double rate = json_number(lg.out(), {"rate"});
    EXPECT_NEAR(duration, 2.0, 0.01);
    EXPECT_NEAR(rate, (greetings - after) / 2.0, 0.01);
    EXPECT_GE(rate, 4.0);
    EXPECT_LE(rate, 5.5) << "the server greets 5 a second";
    EXPECT_GE(after, 1);
    EXPECT_GE(greetings, 10);
    EXPECT_LE(greetings, 16);
    stop_server(server);
}

} // namespace

namespace {

// One line from fd (through its '\n'), "" at EOF or after the server's receive timeout.
std::string recv_line(int fd)
{
    std::string line;
    char ch;
    while (line.size() < 1000 && recv(fd, &ch, 1, 0) == 1) {
        line += ch;
        if (ch == '\n')
            break;
    }
    return line;
}

// Reads until the client closes (or the receive timeout), as a server that greets and waits.
void wait_for_close(int fd)
{
    char buf[256];
    while (recv(fd, buf, sizeof(buf), 0) > 0) {
    }
}

const std::string kSshBanner = "SSH-2.0-Tiny_1.0\r\n";

} // namespace

TEST(LoadgenRun, ExpectIsThePrefixWhateverTheServersWrites)
{
    // sshd's way: the banner at once, then it waits for the client's.
    TinyServer whole([](int fd) {
        send(fd, kSshBanner.data(), kSshBanner.size(), MSG_NOSIGNAL);
        wait_for_close(fd);
    });
    TinyServer bytewise([](int fd) {
        for (char ch : kSshBanner) {
            send(fd, &ch, 1, MSG_NOSIGNAL);
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
        wait_for_close(fd);
    });
    for (TinyServer *server : {&whole, &bytewise}) {
        TestProc lg;
        EXPECT_EQ(loadgen(lg, {"-n", "20", "-c", "1", "-q", "--timeout", "2s", "--expect",
                               "SSH-2.0-", "--json", "-", target(server->port())}),
                  0)
            << lg.err();
        EXPECT_EQ(json_number(lg.out(), {"greetings"}), 20) << lg.out();
        EXPECT_EQ(json_number(lg.out(), {"errors", "total"}), 0);
        TestProc re;
        EXPECT_EQ(loadgen(re, {"-n", "5", "-c", "1", "-q", "--expect-re", "^SSH-2\\.0-[A-Za-z]+_1",
                               "--json", "-", target(server->port())}),
                  0)
            << re.err();
        EXPECT_EQ(json_number(re.out(), {"greetings"}), 5) << re.out();
    }
}

TEST(LoadgenRun, FailedRepliesAreShownWithTheirText)
{
    TinyServer full([](int fd) {
        static const std::string busy = "Exceeded MaxStartups\r\n";
        send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
    });
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "12", "-c", "2", "--expect", "SSH-2.0-", "--json", "-",
                           target(full.port())}),
              1);
    EXPECT_EQ(json_number(lg.out(), {"errors", "bad_greeting"}), 12) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"failed_replies", "Exceeded MaxStartups\\\\r\\\\n"}), 12)
        << lg.out();
    EXPECT_NE(lg.err().find("12 x Exceeded MaxStartups\\r\\n"), std::string::npos) << lg.err();
    // Without any check a 404 passes, and is still seen among the replies.
    TinyServer http([](int fd) {
        // The whole request, blank line included: a close with unread bytes sends a reset,
        // which may reach the client before the reply does.
        while (recv_line(fd).size() > 2) {
        }
        static const std::string nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        send(fd, nf.data(), nf.size(), MSG_NOSIGNAL);
    });
    TestProc any;
    EXPECT_EQ(loadgen(any, {"-n", "7", "-c", "1", "--send", "GET / HTTP/1.0\\r\\n\\r\\n",
                            "--json", "-", target(http.port())}),
              0);
    EXPECT_EQ(json_number(any.out(), {"replies", "HTTP/1.1 404 Not Found\\\\r\\\\n"}), 7)
        << any.out();
    EXPECT_NE(any.err().find("7 x HTTP/1.1 404 Not Found\\r\\n"), std::string::npos) << any.err();
}

TEST(LoadgenRun, AServerThatGreetsAndWaitsGetsAHintNamingExpect)
{
    TinyServer waits([](int fd) {
        send(fd, kSshBanner.data(), kSshBanner.size(), MSG_NOSIGNAL);
        wait_for_close(fd);
    });
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "2", "-c", "1", "--timeout", "200ms", "--json", "-",
                           target(waits.port())}),
              1);
    EXPECT_EQ(json_number(lg.out(), {"errors", "timeout"}), 2) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"waited_after_reply"}), 2);
    EXPECT_NE(lg.err().find("needs --expect TEXT"), std::string::npos) << lg.err();
    EXPECT_NE(lg.err().find("SSH-2.0-Tiny_1.0\\r\\n"), std::string::npos) << lg.err();
}

namespace {

// An SMTP-like server that enforces synchronization: a client that sends before the server's
// reply gets 554 and the connection is closed (as Postfix and Exim do).
void smtp_session(int fd)
{
    auto say = [fd](const std::string &text) {
        send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    };
    auto pipelined = [fd] {
        char ch;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
    };
    say("220 tiny ESMTP\r\n");
    for (;;) {
        std::string line = recv_line(fd);
        if (line.empty())
            return;
        if (pipelined())
            return say("554 5.5.0 Error: SMTP protocol synchronization\r\n");
        if (line.rfind("EHLO", 0) == 0)
            say("250-tiny\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        else if (line.rfind("QUIT", 0) == 0)
            return say("221 2.0.0 Bye\r\n");
        else
            say("502 5.5.2 Error: command not recognized\r\n");
    }
}

std::string write_temp(const std::string &text)
{
    char tmpl[] = "/tmp/lg-run-XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    return tmpl;
}

} // namespace

TEST(LoadgenRun, DialogStepsAreTimedAndAFailureNamesItsStep)
{
    TinyServer smtp(smtp_session);
    std::string good = write_temp("expect 220\nsend EHLO loadgen\\r\\n\nexpect-re ^250[ -]\n"
                                  "send QUIT\\r\\n\nexpect 221\n");
    std::string blob = write_temp("expect 220\nsend EHLO loadgen\\r\\nQUIT\\r\\n\nexpect 250\n");
    std::string csv = write_temp("");
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "10", "-c", "1", "--dialog", good, "--json", "-", "--csv", csv,
                           target(smtp.port())}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 10) << lg.out();
    for (const char *phase : {"expect1", "expect2", "expect3"})
        EXPECT_EQ(json_number(lg.out(), {"latency_us", phase, "count"}), 10) << phase;
    EXPECT_EQ(json_number(lg.out(), {"latency_us", "expect4", "count"}), -1) << "no such step";
    EXPECT_NE(read_text(csv).find("expect3,10,"), std::string::npos) << read_text(csv);
    EXPECT_EQ(json_number(lg.out(), {"replies", "expect3: 221 2.0.0 Bye\\\\r\\\\n"}), 10);
    TestProc piped;
    EXPECT_EQ(loadgen(piped, {"-n", "6", "-c", "1", "--dialog", blob, "--json", "-",
                              target(smtp.port())}),
              1);
    EXPECT_EQ(json_number(piped.out(), {"errors", "bad_greeting"}), 6) << piped.out();
    EXPECT_EQ(json_number(piped.out(),
                          {"failed_replies",
                           "expect2: 554 5.5.0 Error: SMTP protocol synchronization\\\\r\\\\n"}),
              6)
        << piped.out();
    unlink(good.c_str());
    unlink(blob.c_str());
    unlink(csv.c_str());
}

namespace {

// A line protocol: each "PING" line gets "+PONG\r\n", written one byte at a time when slow.
void pong_session(int fd, bool bytewise)
{
    int one = 1; // each byte its own segment, without Nagle's wait for an ACK
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (;;) {
        std::string line = recv_line(fd);
        if (line.empty())
            return;
        std::string reply = line.rfind("PING", 0) == 0 ? "+PONG\r\n" : "-ERR\r\n";
        for (size_t i = 0; i < reply.size(); i += bytewise ? 1 : reply.size())
            send(fd, reply.data() + i, bytewise ? 1 : reply.size(), MSG_NOSIGNAL);
    }
}

} // namespace

TEST(LoadgenRun, RequestsRepeatOnTheSameConnection)
{
    TinyServer pong([](int fd) { pong_session(fd, false); });
    TinyServer slow([](int fd) { pong_session(fd, true); });
    for (TinyServer *server : {&pong, &slow}) {
        TestProc lg;
        EXPECT_EQ(loadgen(lg, {"-n", "2", "-c", "1", "--send", "PING\\r\\n", "--expect",
                               "+PONG", "--requests", "50", "--json", "-",
                               target(server->port())}),
                  0)
            << lg.err();
        EXPECT_EQ(json_number(lg.out(), {"greetings"}), 2) << lg.out();
        EXPECT_EQ(json_number(lg.out(), {"starts"}), 2);
        EXPECT_EQ(json_number(lg.out(), {"requests"}), 98) << "49 repeats per connection";
        EXPECT_EQ(json_number(lg.out(), {"failed_requests"}), 0);
        EXPECT_EQ(json_number(lg.out(), {"latency_us", "request", "count"}), 98);
        EXPECT_EQ(json_number(lg.out(), {"replies", "+PONG\\\\r\\\\n"}), 100);
    }
    // A connection opened in the warm-up keeps going: its requests after it are counted.
    TestProc warm;
    EXPECT_EQ(loadgen(warm, {"-c", "1", "--warmup", "300ms", "-d", "500ms", "--send",
                             "PING\\r\\n", "--expect", "+PONG", "--requests", "0", "--json", "-",
                             target(pong.port())}),
              0)
        << warm.err();
    EXPECT_EQ(json_number(warm.out(), {"greetings"}), 0) << "greeted in the warm-up";
    EXPECT_GT(json_number(warm.out(), {"requests"}), 10) << warm.out();
    // A reply that fails its check ends the connection: a failed request, shown.
    TinyServer err([](int fd) {
        recv_line(fd);
        send(fd, "+PONG\r\n", 7, MSG_NOSIGNAL);
        recv_line(fd);
        send(fd, "-ERR busy\r\n", 11, MSG_NOSIGNAL);
        wait_for_close(fd);
    });
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "3", "-c", "1", "--send", "PING\\r\\n", "--expect", "+PONG",
                           "--requests", "10", "--json", "-", target(err.port())}),
              0);
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 3) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"failed_requests"}), 3);
    EXPECT_EQ(json_number(lg.out(), {"failed_replies", "-ERR busy\\\\r\\\\n"}), 3);
}

TEST(LoadgenRun, AKeptAliveRunIsNotAbortedWhileRequestsPass)
{
    // The first connection is turned away; the next one stays and passes requests: the run
    // goes on (--abort-after looks at requests too) and exits 0.
    std::atomic<int> accepted{0};
    TinyServer once_busy([&accepted](int fd) {
        if (accepted++ == 0) {
            send(fd, "-ERR busy\r\n", 11, MSG_NOSIGNAL);
            return;
        }
        pong_session(fd, false);
    });
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-c", "1", "-d", "1500ms", "--abort-after", "400ms", "--send",
                           "PING\\r\\n", "--expect", "+PONG", "--requests", "0", "--json", "-",
                           target(once_busy.port())}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"errors", "bad_greeting"}), 1) << lg.out();
    EXPECT_GE(json_number(lg.out(), {"duration_s"}), 1.4) << "not stopped early";
    EXPECT_GT(json_number(lg.out(), {"requests"}), 100);
}

TEST(LoadgenRun, OpenLoopRequestsAreTimedFromTheirSchedule)
{
    // Every 20th reply takes 100 ms: requests due meanwhile wait, and their latency says so.
    TinyServer stalls([](int fd) {
        for (int i = 1;; i++) {
            if (recv_line(fd).empty())
                return;
            if (i % 20 == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            send(fd, "+PONG\r\n", 7, MSG_NOSIGNAL);
        }
    });
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-R", "200", "-c", "1", "-d", "1s", "--interval", "250ms", "--send",
                           "PING\\r\\n", "--expect", "+PONG", "--requests", "0", "--json", "-",
                           target(stalls.port())}),
              0)
        << lg.err();
    double requests = json_number(lg.out(), {"requests"});
    EXPECT_NEAR(requests, 200, 30) << lg.out();
    // The intervals add up to the totals, requests included.
    JsonPtr root = parse_json(lg.out());
    long long in_intervals = 0;
    size_t i;
    json_t *iv;
    json_array_foreach(json_object_get(root.get(), "intervals"), i, iv)
        in_intervals += int_at(iv, "requests");
    EXPECT_EQ(in_intervals, static_cast<long long>(requests));
    EXPECT_NE(lg.err().find("requests/s"), std::string::npos) << "the progress line says so";
    EXPECT_EQ(json_number(lg.out(), {"failed_requests"}), 0);
    // About 20 requests fall behind in each stall, by 95 ms down to 0: p90 sees it.
    EXPECT_GE(json_number(lg.out(), {"latency_us", "request", "p90"}), 20000) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"latency_us", "greeting_uncorrected", "count"}), -1);
}
