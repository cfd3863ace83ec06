// test_loadgen_window.cc -- what loadgen's figures cover: the rate counts what finished inside
// the measured window, the result says what ended it, the mean concurrency counts connections
// never greeted, a lost datagram is a timeout, and refused connects back off for real without
// starving a server that comes back.
#include <gtest/gtest.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_inproc.h"
#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

// A socket of type on 127.0.0.1, port 0, bound but nothing more; its port in *port.
int bound_socket(int type, int *port)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

const char *string_at(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(missing)";
}

double number_at(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

} // namespace

// Greetings that finish in the grace after -d are counted (their latency matters) but not in
// the rate: with 300 ms greetings and -d 500ms, the second wave finishes after the window
// (the rate said 80/s for 40 greetings in 0.5 s, half of them after it).
TEST(LoadgenWindow, RateCountsOnlyGreetingsInsideTheWindow)
{
    TestProc server, lg;
    int port = start_server(server, {"--work-us", "300000", "--workers", "32"});
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(loadgen(lg, {"-d", "500ms", "-c", "20", "--interval", "100ms", "--json", "-",
                           target(port)}),
              0)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    long long greetings = int_at(root.get(), "greetings");
    long long after = int_at(root.get(), "greetings_after_window");
    double duration = number_at(root.get(), "duration_s");
    EXPECT_GE(after, 1) << "the second wave ends after the window";
    EXPECT_LT(after, greetings);
    EXPECT_NEAR(number_at(root.get(), "rate"), static_cast<double>(greetings - after) / duration,
                0.01);
    // The intervals inside the window hold exactly the greetings the rate counts.
    long long inside = 0;
    size_t k;
    json_t *iv;
    json_array_foreach(json_object_get(root.get(), "intervals"), k, iv) {
        if (number_at(iv, "start_s") < duration - 1e-9)
            inside += int_at(iv, "greetings");
    }
    EXPECT_EQ(inside, greetings - after) << lg.out();
    EXPECT_STREQ(string_at(root.get(), "stopped_by"), "duration");
    EXPECT_FALSE(json_is_true(json_object_get(root.get(), "interrupted")));
    // The human report (on stderr with --json -) has the late ones on a line of their own,
    // and the drain after -d is not printed as a measured interval.
    EXPECT_NE(lg.err().find("after window   " + std::to_string(after) + " of them finished"),
              std::string::npos)
        << lg.err();
    EXPECT_NE(lg.err().find("stopped by duration (-d)"), std::string::npos) << lg.err();
    EXPECT_NE(lg.err().find("loadgen: drain after the 0.5s window"), std::string::npos)
        << lg.err();
    EXPECT_EQ(lg.err().find("loadgen:      0.5s"), lg.err().rfind("loadgen:      0.5s"))
        << "one progress line for the window's last interval, none for the drain\n"
        << lg.err();
    stop_server(server);
}

// stopped_by names what ended the window; only a signal is "interrupted".
TEST(LoadgenWindow, StoppedBySaysWhatEndedTheRun)
{
    TestProc server;
    int port = start_server(server, {"--access-log"});
    ASSERT_GT(port, 0) << server.err();
    // First the signal: the server's first access-log line says this loadgen is running.
    TestProc signalled;
    ASSERT_TRUE(signalled.start({GREETER_LOADGEN_BIN, "-d", "60", "-c", "2", "-q", "--json",
                                 "-", target(port)}));
    EXPECT_NE(server.wait_for_line("Got connection from", 10000), "");
    signalled.send_signal(SIGINT);
    EXPECT_EQ(signalled.wait_exit(10000), 0) << signalled.err();
    JsonPtr by_signal = parse_json(signalled.out());
    ASSERT_NE(by_signal, nullptr);
    EXPECT_STREQ(string_at(by_signal.get(), "stopped_by"), "signal");
    EXPECT_TRUE(json_is_true(json_object_get(by_signal.get(), "interrupted")));
    EXPECT_LT(number_at(by_signal.get(), "duration_s"), 30);
    EXPECT_NE(signalled.err().find("stopped by signal (interrupted by SIGINT)"),
              std::string::npos)
        << signalled.err();

    TestProc counted;
    ASSERT_EQ(loadgen(counted, {"-n", "30", "-c", "3", "-q", "--json", "-", target(port)}), 0)
        << counted.err();
    JsonPtr by_count = parse_json(counted.out());
    ASSERT_NE(by_count, nullptr);
    EXPECT_STREQ(string_at(by_count.get(), "stopped_by"), "count");
    EXPECT_EQ(int_at(by_count.get(), "greetings_after_window"), 0);
    EXPECT_NE(counted.err().find("stopped by count (-n)"), std::string::npos) << counted.err();
    stop_server(server);
}

// --abort-after is not a signal: stopped_by "abort", interrupted false (it said true).
TEST(LoadgenWindow, AbortIsNotAnInterruption)
{
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-d", "30s", "-c", "4", "--abort-after", "500ms", "-q", "--json",
                           "-", target(closed_port())}),
              1);
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    EXPECT_STREQ(string_at(root.get(), "stopped_by"), "abort");
    EXPECT_FALSE(json_is_true(json_object_get(root.get(), "interrupted")));
    EXPECT_LT(number_at(root.get(), "duration_s"), 5.0);
    EXPECT_NE(lg.err().find("stopped by abort"), std::string::npos) << lg.err();
    // No greeting: the CPU line says so instead of dividing by zero.
    EXPECT_NE(lg.err().find("= no greetings;"), std::string::npos) << lg.err();
    EXPECT_EQ(lg.err().find("0.00 us per greeting"), std::string::npos) << lg.err();
}

// Ten connections the server never greets, open all run: the mean concurrency is ten, not
// 0.0 (connections abandoned at the end added nothing to Little's law).
TEST(LoadgenWindow, MeanConcurrencyCountsConnectionsNeverGreeted)
{
    int port = -1;
    int fd = bound_socket(SOCK_STREAM, &port);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(listen(fd, 64), 0); // the kernel completes the handshakes; nobody accepts
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-d", "1s", "-c", "10", "-t", "1", "--timeout", "20s", "-q",
                           "--json", "-", target(port)}),
              1)
        << lg.err();
    close(fd);
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *conc = json_object_get(root.get(), "concurrency");
    EXPECT_EQ(int_at(conc, "peak"), 10);
    EXPECT_GT(number_at(conc, "mean"), 9.0) << lg.out();
    EXPECT_LE(number_at(conc, "mean"), 10.0) << lg.out();
    EXPECT_EQ(int_at(root.get(), "unfinished"), 10);
}

// A datagram that gets no reply is a timeout after 1 s by default, not "unfinished" after
// holding its slot for 10 s; and there is no kernel backlog to speak of.
TEST(LoadgenWindow, LostDatagramsAreTimeouts)
{
    int port = -1;
    int fd = bound_socket(SOCK_DGRAM, &port); // receives, never answers
    ASSERT_GE(fd, 0);
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"--udp", "-d", "1500ms", "-c", "4", "-t", "1", "--abort-after", "0",
                           "--json", "-", target(port)}),
              1)
        << lg.err();
    close(fd);
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *errors = json_object_get(root.get(), "errors");
    EXPECT_EQ(int_at(errors, "timeout"), 8) << "4 slots, each timed out at 1 s and at 2 s";
    EXPECT_EQ(int_at(root.get(), "unfinished"), 0);
    EXPECT_EQ(lg.err().find("awaiting"), std::string::npos) << lg.err();

    TestProc help;
    ASSERT_EQ(loadgen(help, {"--help"}), 0);
    EXPECT_NE(help.out().find("1s with --udp, where a reply not in by then was"), std::string::npos) << help.out();
}

// The timeout default depends on the transport; one given is kept.
TEST(LoadgenWindow, DatagramTimeoutDefaultsToOneSecond)
{
    const struct {
        std::vector<std::string> args;
        long long timeout_us;
    } cases[] = {{{"--udp"}, 1000000},
                 {{"--udp", "--timeout", "3s"}, 3000000},
                 {{}, CONFIG_DEFAULT_TIMEOUT_US},
                 {{"--timeout", "200ms"}, 200000}};
    for (const auto &c : cases) {
        lg_config cfg;
        std::string err;
        ASSERT_EQ(parse_args(c.args, &cfg, &err), 0) << err;
        EXPECT_EQ(cfg.timeout_us, c.timeout_us) << (c.args.empty() ? "" : c.args.back());
        config_free(&cfg);
    }
}

// Against a closed port, -c 1000 retries refused connects at most 200 times a second per
// thread (it made 187,453 in 2 s), and the report says it backed off.
TEST(LoadgenWindow, RefusedConnectsBackOff)
{
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-c", "1000", "-t", "2", "-d", "2s", "--abort-after", "0", "--json",
                           "-", target(closed_port())}),
              1)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    long long refused = int_at(json_object_get(root.get(), "errors"), "refused");
    // The first 1000, then at most 2 threads x 200/s for about 2 s (and a little slack).
    EXPECT_GT(refused, 1000);
    EXPECT_LT(refused, 1000 + 2 * 200 * 3) << lg.out();
    EXPECT_GT(int_at(root.get(), "refused_backoffs"), 0);
    EXPECT_NE(lg.err().find("refused        " + std::to_string(refused) + " (backed off to ~"),
              std::string::npos)
        << lg.err();
}

// A server that starts listening mid-run is reached at once, and the run ramps up to it: the
// 200 slots waiting their paced turn (one every 5 ms per thread) would take half a second to
// come back one by one; each successful connect lets more go.
TEST(LoadgenWindow, ServerThatComesBackIsReachedAtOnce)
{
    constexpr int kSlots = 200;
    int port = -1;
    int fd = bound_socket(SOCK_STREAM, &port); // bound, not listening: connects are refused
    ASSERT_GE(fd, 0);
    std::atomic<bool> stop{false};
    Clock::time_point listening, first, all_in;
    TestProc lg;
    ASSERT_TRUE(lg.start({GREETER_LOADGEN_BIN, "-c", std::to_string(kSlots), "-t", "2", "-d",
                          "3s", "--abort-after", "0", "-q", "--json", "-", target(port)}));
    // Holds the connections until every slot has one (so each is a slot of its own, not one
    // slot reconnecting), then greets them and every later one at once.
    std::thread server([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        listening = Clock::now();
        if (listen(fd, 1024) != 0)
            return;
        std::vector<int> held;
        while (!stop) {
            int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            if (held.empty())
                first = Clock::now();
            if (held.size() < kSlots) {
                held.push_back(c);
                if (held.size() < kSlots)
                    continue;
                all_in = Clock::now();
                for (int h : held)
                    (void)!write(h, "hello\n", 6), close(h);
                continue;
            }
            (void)!write(c, "hello\n", 6);
            close(c);
        }
        if (held.size() < kSlots)
            for (int h : held)
                close(h);
    });
    int rc = lg.wait_exit(20000);
    stop = true;
    shutdown(fd, SHUT_RDWR); // wakes accept
    server.join();
    close(fd);
    EXPECT_EQ(rc, 0) << lg.err();
    ASSERT_NE(first, Clock::time_point()) << "never reached";
    EXPECT_LT(std::chrono::duration<double>(first - listening).count(), 0.2)
        << "the first connect after listen() came late";
    ASSERT_NE(all_in, Clock::time_point()) << "never had all " << kSlots << " slots connected";
    EXPECT_LT(std::chrono::duration<double>(all_in - listening).count(), 0.3)
        << "the slots came back one paced turn at a time";
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *intervals = json_object_get(root.get(), "intervals");
    ASSERT_GE(json_array_size(intervals), 3u);
    EXPECT_GT(int_at(json_array_get(intervals, 2), "greetings"), 1000) << lg.out();
}
