// test_tls_e2e.cc -- TLS through the real server and client: greeting, close_notify, mutual
// TLS, refused certificates, and plaintext clients on the TLS port.
#include <gtest/gtest.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "testproc.h"
#include "tls.h"

namespace {

class TlsEndToEnd : public ::testing::Test {
  protected:
    void SetUp() override
    {
        if (!tls_available())
            GTEST_SKIP() << "built without OpenSSL";
    }
    static std::string cert(const std::string &name) { return test_cert(name); }

    // Starts a TLS server of the given model (its log lines not --quiet); returns its port.
    int start(TestProc &server, const std::string &model, std::vector<std::string> extra = {})
    {
        std::vector<std::string> args = {"-m", model, "--tls-cert", cert("server.pem"), "--tls-key",
                                         cert("server.key")};
        args.insert(args.end(), extra.begin(), extra.end());
        return start_server(server, args, false);
    }

    int client(TestProc &c, int port, std::vector<std::string> extra, const std::string &host = "localhost")
    {
        std::vector<std::string> args = {"--tls", "-t", "5s"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(host);
        args.push_back(std::to_string(port));
        return run_client(c, args);
    }
};

// The client prints the greeting only after the server's close_notify: an exit status of 0
// with the greeting is the proof that close_notify arrived.
TEST_F(TlsEndToEnd, GreetingWithCloseNotifyInEveryModel)
{
    for (std::string model : {"pool", "fork", "prefork", "thread", "iterative", "event"}) {
        TestProc server;
        int port = start(server, model);
        ASSERT_GT(port, 0) << server.err();
        for (int i = 0; i < 3; i++) {
            TestProc c;
            EXPECT_EQ(client(c, port, {"--tls-ca", cert("ca.pem")}), 0) << model << ": " << c.err();
            EXPECT_EQ(c.out(), kGreeting + "\n") << model;
        }
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "greeted"), 3) << model << ": " << out;
        EXPECT_EQ(summary_field(out, "tls_failed"), 0) << out;
    }
}

// The segments with data that reached fd so far (TCP_INFO), or -1.
static long data_segments_in(int fd)
{
    struct tcp_info info = {};
    socklen_t len = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
        len < offsetof(struct tcp_info, tcpi_data_segs_in) + sizeof(info.tcpi_data_segs_in))
        return -1;
    return info.tcpi_data_segs_in;
}

// The server sends two flights: its handshake flight, and after the client's Finished a
// session ticket, the greeting, close_notify and its FIN. Each flight is one segment (not four
// for the second: each costs both sides a wake-up), in every model.
TEST_F(TlsEndToEnd, EachServerFlightIsOneSegment)
{
    for (std::string model : {"pool", "event", "fork", "prefork", "thread", "iterative"}) {
        TestProc server;
        int port = start(server, model);
        ASSERT_GT(port, 0) << server.err();
        for (int i = 0; i < 3; i++) {
            TlsTestClient client;
            ASSERT_TRUE(client.connect(port));
            ASSERT_TRUE(client.handshake());
            EXPECT_EQ(client.greeting(), kGreeting) << model;
            struct pollfd p = {client.fd(), POLLIN, 0};
            char byte;
            ASSERT_EQ(poll(&p, 1, 10000), 1) << model << ": no FIN";
            EXPECT_EQ(recv(client.fd(), &byte, 1, 0), 0) << model << ": data after close_notify";
            EXPECT_EQ(data_segments_in(client.fd()), 2) << model << " (TCP_INFO's tcpi_data_segs_in)";
            client.close();
        }
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "greeted"), 3) << model << ": " << out;
    }
}

// Over a UNIX socket nothing is held back (MSG_MORE is TCP's), and a greeting larger than the
// socket's buffer, which makes the server wait for room, still arrives whole.
TEST_F(TlsEndToEnd, UnixSocketGreetingLargerThanTheSocketBuffer)
{
    TempDir dir;
    std::string file = dir.path("greeting"), path = dir.path("tls.sock");
    std::string greeting(512 * 1024, 'g');
    std::ofstream(file) << greeting;
    for (std::string model : {"pool", "event", "thread"}) {
        TestProc server;
        ASSERT_EQ(start(server, model, {"--unix", path, "--greeting-file", file}), 0) << server.err();
        TestProc c;
        EXPECT_EQ(run_client(c, {"--tls", "-t", "10s", "--tls-ca", cert("ca.pem"), "--servername",
                                 "localhost", "--unix", path}),
                  0)
            << model << ": " << c.err();
        EXPECT_TRUE(c.out() == greeting + "\n") << model << ": got " << c.out().size() << " bytes";
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "greeted"), 1) << model << ": " << out;
        EXPECT_EQ(summary_field(out, "failed"), 0) << model << ": " << out;
    }
}

TEST_F(TlsEndToEnd, MutualTlsNeedsAGoodClientCertificate)
{
    TestProc server;
    int port = start(server, "pool", {"--tls-client-ca", cert("ca.pem")});
    ASSERT_GT(port, 0) << server.err();
    TestProc good;
    EXPECT_EQ(client(good, port, {"--tls-ca", cert("ca.pem"), "--tls-cert", cert("client.pem"),
                                  "--tls-key", cert("client.key")}),
              0)
        << good.err();
    EXPECT_EQ(good.out(), kGreeting + "\n");
    TestProc none;
    EXPECT_EQ(client(none, port, {"--tls-ca", cert("ca.pem")}), 1);
    EXPECT_EQ(none.out(), "");
    EXPECT_NE(none.err().find("certificate required"), std::string::npos) << none.err();
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
    EXPECT_EQ(summary_field(out, "tls_failed"), 1) << out;
}

TEST_F(TlsEndToEnd, PlaintextClientIsAFailedHandshakeAndServingGoesOn)
{
    TestProc server;
    int port = start(server, "pool", {"--io-timeout", "500ms"});
    ASSERT_GT(port, 0) << server.err();
    std::string got = fetch_greeting(port, 5000, nullptr, "hello\r\n\r\n");
    EXPECT_EQ(got.find(kGreeting), std::string::npos) << "no plaintext greeting on a TLS port";
    TestProc c;
    EXPECT_EQ(client(c, port, {"--tls-ca", cert("ca.pem")}), 0) << c.err();
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "tls_failed"), 1) << out;
    EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
    EXPECT_NE(server.err().find("TLS handshake with ('127.0.0.1', "), std::string::npos) << server.err();
}

TEST_F(TlsEndToEnd, ClientRefusesExpiredAndWrongNameCertificatesWithAReason)
{
    struct Case {
        std::string cert, key, reason;
    };
    for (const Case &k : {Case{"expired.pem", "expired.key", "expired"},
                          Case{"wrongname.pem", "wrongname.key", "mismatch"}}) {
        TestProc server;
        int port = start_server(server, {"--tls-cert", cert(k.cert), "--tls-key", cert(k.key)});
        ASSERT_GT(port, 0) << server.err();
        TestProc c;
        EXPECT_EQ(client(c, port, {"--tls-ca", cert("ca.pem")}), 1) << k.cert;
        EXPECT_NE(c.err().find("certificate verify failed"), std::string::npos) << c.err();
        EXPECT_NE(c.err().find(k.reason), std::string::npos) << c.err();
        TestProc insecure;
        EXPECT_EQ(client(insecure, port, {"--insecure"}), 0) << insecure.err();
        stop_server(server);
    }
}

TEST_F(TlsEndToEnd, BadCertificatesStopTheServerAtStartWithOneLine)
{
    TestProc mismatch;
    EXPECT_EQ(run_command(mismatch, {GREETER_SERVER_BIN, "-p", "0", "--tls-cert", cert("server.pem"),
                                     "--tls-key", cert("mismatch.key")}),
              1);
    EXPECT_NE(mismatch.err().find("does not match the certificate"), std::string::npos) << mismatch.err();
    TestProc missing;
    EXPECT_EQ(run_command(missing, {GREETER_SERVER_BIN, "-p", "0", "--tls-cert", cert("nope.pem"),
                                    "--tls-key", cert("server.key")}),
              1);
    EXPECT_NE(missing.err().find("nope.pem: No such file"), std::string::npos) << missing.err();
    TestProc half;
    EXPECT_EQ(run_command(half, {GREETER_SERVER_BIN, "--tls-cert", cert("server.pem")}), 2);
    EXPECT_NE(half.err().find("needs both --tls-cert and --tls-key"), std::string::npos) << half.err();
}

TEST_F(TlsEndToEnd, MinimumVersionIsEnforced)
{
    TestProc server;
    int port = start(server, "pool", {"--tls-min", "1.3"});
    ASSERT_GT(port, 0) << server.err();
    TestProc c;
    EXPECT_EQ(client(c, port, {"--tls-ca", cert("ca.pem"), "--tls-min", "1.3"}), 0) << c.err();
    stop_server(server);
}

} // namespace

namespace {

// Built with or without OpenSSL, the tools say which: without it every TLS option is refused
// with one line that says how to get TLS (tools/test runs this in a GREETER_TLS=OFF build).
TEST(TlsBuild, ServerAndClientSayWhetherTlsIsBuiltIn)
{
    TestProc server, client;
    int server_rc = run_command(server, {GREETER_SERVER_BIN, "-p", "0", "--tls-cert", "/nonexistent/c.pem",
                                         "--tls-key", "/nonexistent/k.pem"});
    int client_rc = run_client(client, {"--tls", "--tls-ca", "/nonexistent/ca.pem", "-t", "1s", "127.0.0.1",
                                        std::to_string(closed_port())});
    if (tls_available()) {
        EXPECT_EQ(server_rc, 1);
        EXPECT_NE(server.err().find("/nonexistent/c.pem"), std::string::npos) << server.err();
        EXPECT_EQ(client_rc, 1); // it loads the CA after connecting: here, refused
        EXPECT_EQ(client.err().find("not built in"), std::string::npos) << client.err();
    } else {
        EXPECT_EQ(server_rc, 2) << server.err();
        EXPECT_NE(server.err().find("TLS support is not built in"), std::string::npos) << server.err();
        EXPECT_EQ(client_rc, 2) << client.err();
        EXPECT_NE(client.err().find("TLS support is not built in"), std::string::npos) << client.err();
    }
}

} // namespace
