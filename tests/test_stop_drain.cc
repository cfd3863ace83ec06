// test_stop_drain.cc -- a stop resets no client the kernel already connected: every model
// takes what waits in its listeners' queues before closing them, and a client that comes
// during the drain is refused, not let in to be reset; an upgrade's old process resets none
// either.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "testproc.h"
#include "tls.h"
#include "upgrade_testutil.h"

namespace {

// One of loadgen's --json error counts ("reset", "refused", ...); -1 when absent.
long loadgen_error(const std::string &json, const std::string &cause)
{
    std::smatch m;
    if (!std::regex_search(json, m, std::regex("\"" + cause + "\": *([0-9]+)")))
        return -1;
    return std::stol(m[1]);
}

struct StopCase {
    const char *name;
    const char *model;
    std::vector<std::string> args; // -w and the like
    int clients;                   // loadgen -c: the fork model forks one process per client
    bool tls = false;
};

class StopUnderLoad : public ::testing::TestWithParam<StopCase> {};

// loadgen keeps clients in flight, each costing 2 ms of work (spun, in the event model, whose
// loops would otherwise wait for it on a timer), so that the listeners' queues hold hundreds
// when SIGTERM comes. Closing the listener with them in it reset every one
// (1000 of 1000 for the pool, thread, fork and iterative models; 991 in the report).
TEST_P(StopUnderLoad, ResetsNoClientTheKernelConnected)
{
    const StopCase &c = GetParam();
    if (c.tls && !tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    std::vector<std::string> args = {"-m", c.model};
    if (c.tls) // the handshakes are the work
        args.insert(args.end(), {"--tls-cert", test_cert("server.pem"), "--tls-key", test_cert("server.key")});
    else
        args.insert(args.end(), {"--work-us", "2000"});
    args.insert(args.end(), c.args.begin(), c.args.end());
    TestProc server;
    int port = start_server(server, args);
    ASSERT_GT(port, 0) << server.err();
    std::vector<std::string> load_args = {GREETER_LOADGEN_BIN, "-q", "-c", std::to_string(c.clients),
                                          "-d", "6s", "--abort-after", "1s", "--timeout", "10s",
                                          "--json", "-", "127.0.0.1:" + std::to_string(port)};
    if (c.tls)
        load_args.insert(load_args.begin() + 1, {"--tls", "--insecure"});
    TestProc load;
    ASSERT_TRUE(load.start(load_args)) << load.error();
    int queued = 0;
    // Over TLS the handshakes' CPU decides how many queue, on two cores shared with loadgen.
    int enough = c.tls ? c.clients / 10 : c.clients / 2;
    EXPECT_TRUE(wait_until([&] { return (queued = accept_backlog(port)) >= enough; }, 5000))
        << "only " << queued << " clients queued: the test means nothing without a queue";
    server.send_signal(SIGTERM);
    ASSERT_EQ(server.wait_exit(60000), 0) << server.err();
    ASSERT_GE(load.wait_exit(30000), 0) << load.err(); // 1 when it aborted: the port closed
    long resets = loadgen_error(load.out(), "reset");
    EXPECT_GE(resets, 0) << load.out();
    EXPECT_LE(resets, 10) << queued << " were queued at the stop; " << load.out();
    EXPECT_EQ(loadgen_error(load.out(), "timeout"), 0) << load.out();
    EXPECT_EQ(summary_unaccounted(server.out()), 0) << server.out();
    printf("[ stop     ] %s: %d queued at SIGTERM, %ld reset, %ld refused after\n", c.name,
           queued, resets, loadgen_error(load.out(), "refused"));
}

INSTANTIATE_TEST_SUITE_P(
    Models, StopUnderLoad,
    ::testing::Values(StopCase{"pool", "pool", {"-w", "4"}, 1000},
                      StopCase{"thread", "thread", {}, 1000},
                      StopCase{"event", "event", {"-w", "2", "--work-kind", "spin"}, 1000},
                      StopCase{"prefork", "prefork", {"-w", "4"}, 1000},
                      StopCase{"iterative", "iterative", {}, 500},
                      StopCase{"fork", "fork", {}, 200},
                      // A TLS listener holds a connected client in the kernel until its
                      // ClientHello is in: the drain waits for those too (acceptor.h).
                      StopCase{"pool_tls", "pool", {"-w", "2", "-q", "16"}, 1000, true}, // clients wait in the kernel
                      StopCase{"event_tls", "event", {"-w", "2"}, 1000, true}),
    [](const auto &info) { return std::string(info.param.name); });

// Starts a non-blocking connect to 127.0.0.1:port; the socket, or -1.
int start_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in dst = {};
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr *>(&dst), sizeof(dst)) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

// A client that connects while the stop drains (one worker, 5 ms per client, hundreds
// queued: seconds of work) is not let into the queue: its SYN goes unanswered, and its retry
// finds the port closed. Before, the kernel completed its handshake and the listener's close
// reset it seconds later.
TEST(StopDrain, ClientDuringTheDrainIsRefusedNotReset)
{
    TestProc server;
    int port = start_server(server, {"-w", "1", "--work-us", "5000"});
    ASSERT_GT(port, 0) << server.err();
    TestProc load;
    ASSERT_TRUE(load.start({GREETER_LOADGEN_BIN, "-q", "-c", "400", "-d", "3s", "--abort-after",
                            "1s", "--timeout", "10s", "--json", "-",
                            "127.0.0.1:" + std::to_string(port)}))
        << load.error();
    ASSERT_TRUE(wait_until([&] { return accept_backlog(port) >= 200; }, 5000));
    server.send_signal(SIGTERM);
    usleep(300 * 1000); // the drain is under way
    int fd = start_connect(port);
    ASSERT_GE(fd, 0);
    struct pollfd p = {fd, POLLOUT, 0};
    ASSERT_EQ(poll(&p, 1, 15000), 1) << "the connect neither completed nor failed";
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    EXPECT_EQ(error, ECONNREFUSED) << "connect: " << strerror(error)
                                   << (error == 0 ? " (let in, to be reset at the close)" : "");
    close(fd);
    EXPECT_EQ(server.wait_exit(30000), 0) << server.err();
    EXPECT_GE(load.wait_exit(30000), 0) << load.err();
    EXPECT_LE(loadgen_error(load.out(), "reset"), 10) << load.out();
}

// An upgrade's old process hands the listeners over and stops under the same load: the
// clients queued in them are the successor's to accept, and none is reset.
TEST(StopDrain, UpgradeOldProcessResetsNoClient)
{
    UpgradeRun run;
    upgrade_under_load({"-w", "4", "--work-us", "2000"}, {"-c", "1000", "-d", "3s"}, 1, 1000, &run);
    ASSERT_FALSE(HasFatalFailure());
    EXPECT_EQ(loadgen_error(run.load_out, "reset"), 0) << run.load_out;
    EXPECT_EQ(run.errors, 0) << run.load_out;
    EXPECT_GE(sum_field(run.server_out, "greeted"), run.greetings) << run.server_out; // and those it left
}

} // namespace
