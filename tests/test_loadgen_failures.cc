// test_loadgen_failures.cc -- loadgen when things go wrong: a refused target ends early without
// spinning, a reset under --tls counts as a reset in whatever phase, and the mean concurrency
// never exceeds the peak even when connections outlive the window.
#include <gtest/gtest.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "loadgen_inproc.h"
#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

// A listener on 127.0.0.1 (port 0) whose thread accepts and resets every connection
// (SO_LINGER 0), until destroyed.
class ResetServer {
  public:
    ResetServer()
    {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin = {};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(sin);
        if (bind(fd_, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) == 0 &&
            listen(fd_, 128) == 0 &&
            getsockname(fd_, reinterpret_cast<sockaddr *>(&sin), &len) == 0)
            port_ = ntohs(sin.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~ResetServer()
    {
        stop_ = true;
        shutdown(fd_, SHUT_RDWR); // wakes accept
        thread_.join();
        close(fd_);
    }
    ResetServer(const ResetServer &) = delete;
    ResetServer &operator=(const ResetServer &) = delete;
    int port() const { return port_; }

  private:
    void serve()
    {
        while (!stop_) {
            int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            linger lg = {1, 0};
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            close(c);
        }
    }
    int fd_ = -1, port_ = -1;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace

// `loadgen -d 30s` on a closed port: refusals back off instead of spinning, and the run stops
// after --abort-after with a message and exit 1 (it made 273,611 attempts in 2 s at 96% CPU).
TEST(LoadgenFailures, RefusedTargetEndsEarlyWithoutSpinning)
{
    TestProc lg;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(loadgen(lg, {"-d", "30s", "-c", "10", "--abort-after", "1s", "-q", "--json", "-",
                           target(closed_port())},
                      20000),
              1);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(took, 5.0) << "stopped early, not after 30 s";
    EXPECT_NE(lg.err().find("every connection that ended in the last 1.0 s failed (refused)"),
              std::string::npos)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    // 10 slots, each retrying every 10 ms for about a second: about a thousand, not 100,000s.
    long long refused = int_at(json_object_get(root.get(), "errors"), "refused");
    EXPECT_GT(refused, 100);
    EXPECT_LT(refused, 5000);
    json_t *cpu = json_object_get(root.get(), "cpu");
    double cpu_s = json_number_value(json_object_get(cpu, "user_s")) +
                   json_number_value(json_object_get(cpu, "sys_s"));
    EXPECT_LT(cpu_s, 0.5 * took) << "a refused target must not keep a core busy";
    // Stopped by --abort-after, which is no signal.
    EXPECT_STREQ(json_string_value(json_object_get(root.get(), "stopped_by")), "abort");
    EXPECT_FALSE(json_is_true(json_object_get(root.get(), "interrupted")));
}

// A reset is a reset whatever phase it hits: under --tls the handshake's resets count as
// `reset`, with the step in the reason (3,795 reset and 40,260 tls_handshake before).
TEST(LoadgenFailures, ResetDuringTlsHandshakeCountsAsReset)
{
    ResetServer server;
    ASSERT_GT(server.port(), 0);
    TestProc lg;
    int rc = loadgen(lg, {"--tls", "--insecure", "-n", "40", "-c", "4", "--abort-after", "0",
                          "-q", "--json", "-", target(server.port())});
    if (lg.err().find("TLS support") != std::string::npos)
        GTEST_SKIP() << lg.err();
    EXPECT_EQ(rc, 1) << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *errors = json_object_get(root.get(), "errors");
    EXPECT_EQ(int_at(errors, "reset"), 40) << lg.out();
    EXPECT_EQ(int_at(errors, "tls_handshake"), 0) << lg.out();
    EXPECT_EQ(int_at(errors, "total"), 40);
    // A reset met by the TLS layer keeps its reason, which names the step (one that arrives
    // with the connect's completion is a reset before any TLS: no reason).
    json_t *reasons = json_object_get(root.get(), "tls_reasons");
    const char *reason;
    json_t *count;
    long long counted = 0;
    json_object_foreach(reasons, reason, count) {
        EXPECT_NE(std::string(reason).find("handshake"), std::string::npos) << reason;
        counted += json_integer_value(count);
    }
    EXPECT_LE(counted, 40);
}

// Connections that outlive the -d window: Little's law over the span they were open keeps the
// mean at or below the peak (it said mean 1017.4 against peak 1000).
TEST(LoadgenFailures, MeanConcurrencyNeverAboveThePeak)
{
    TestProc server, lg;
    int port = start_server(server, {"--work-us", "300000", "--workers", "32"});
    ASSERT_GT(port, 0);
    ASSERT_EQ(loadgen(lg, {"-d", "500ms", "-c", "20", "-q", "--json", "-", target(port)}), 0)
        << lg.err();
    JsonPtr root = parse_json(lg.out());
    ASSERT_NE(root, nullptr);
    json_t *conc = json_object_get(root.get(), "concurrency");
    double mean = json_number_value(json_object_get(conc, "mean"));
    long long peak = int_at(conc, "peak");
    EXPECT_EQ(peak, 20);
    EXPECT_LE(mean, static_cast<double>(peak));
    // About 19 alone; 15.0 was missed by 0.02 once in the sanitized build on a loaded run
    // (each reconnect waits for a CPU): 12 still says the 20 were held most of the time.
    EXPECT_GT(mean, 12.0) << "20 held most of the time";
    stop_server(server);
}
