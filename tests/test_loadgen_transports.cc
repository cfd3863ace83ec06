// test_loadgen_transports.cc -- loadgen over TLS, UDP, UNIX sockets and IPv6 against
// greeter-server, with certificates made at test time by tests/make-test-certs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "loadgen_testutil.h"
#include "testproc.h"
#include "tls.h"

namespace {

class LoadgenTls : public ::testing::Test {
  protected:
    void SetUp() override
    {
        if (!tls_available())
            GTEST_SKIP() << "built without OpenSSL";
    }
    static std::string cert(const std::string &name) { return test_cert(name); }

    // A TLS greeter-server on 127.0.0.1; returns its port.
    int start_tls(TestProc &server, std::vector<std::string> extra = {})
    {
        std::vector<std::string> args = {"--tls-cert", cert("server.pem"), "--tls-key",
                                         cert("server.key")};
        args.insert(args.end(), extra.begin(), extra.end());
        return start_server(server, args);
    }

    // loadgen --tls -q --json - with extra options against localhost:port.
    int run_tls(TestProc &lg, int port, std::vector<std::string> extra)
    {
        std::vector<std::string> args = {"--tls", "-q", "--json", "-"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("localhost:" + std::to_string(port));
        return loadgen(lg, args);
    }
};

TEST_F(LoadgenTls, HandshakeIsItsOwnPhase)
{
    TestProc server, lg;
    int port = start_tls(server);
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(run_tls(lg, port, {"-n", "200", "-c", "10", "--tls-ca", cert("ca.pem")}), 0)
        << lg.err();
    const std::string &j = lg.out();
    EXPECT_EQ(json_number(j, {"greetings"}), 200) << j;
    EXPECT_EQ(json_number(j, {"errors", "total"}), 0);
    EXPECT_NE(j.find("\"transport\": \"tls\""), std::string::npos);
    EXPECT_EQ(json_number(j, {"latency_us", "tls", "count"}), 200);
    EXPECT_GT(json_number(j, {"latency_us", "tls", "min"}), 0);
    EXPECT_EQ(json_number(j, {"tls_handshakes", "full"}), 200);
    EXPECT_EQ(json_number(j, {"tls_handshakes", "resumed"}), 0);
    // The handshake comes before the first greeting byte.
    EXPECT_LE(json_number(j, {"latency_us", "tls", "p50"}),
              json_number(j, {"latency_us", "first_byte", "p50"}));
    EXPECT_NE(lg.err().find("200 handshakes: 200 full, 0 resumed"), std::string::npos) << lg.err();
    EXPECT_EQ(summary_field(stop_server(server), "greeted"), 200);
}

TEST_F(LoadgenTls, ResumptionIsCountedAndNeedsTheServer)
{
    TestProc server, lg;
    int port = start_tls(server);
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(run_tls(lg, port, {"-n", "200", "-c", "4", "-t", "2", "--tls-resume", "--tls-ca",
                                 cert("ca.pem")}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 200) << lg.out();
    EXPECT_GT(json_number(lg.out(), {"tls_handshakes", "resumed"}), 150) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"tls_handshakes", "full"}) +
                  json_number(lg.out(), {"tls_handshakes", "resumed"}),
              200);
    stop_server(server);

    TestProc no_resume_server, lg2;
    port = start_tls(no_resume_server, {"--tls-no-resume"});
    ASSERT_GT(port, 0) << no_resume_server.err();
    ASSERT_EQ(run_tls(lg2, port, {"-n", "100", "-c", "4", "--tls-resume", "--tls-ca",
                                  cert("ca.pem")}),
              0)
        << lg2.err();
    EXPECT_EQ(json_number(lg2.out(), {"greetings"}), 100) << lg2.out();
    EXPECT_EQ(json_number(lg2.out(), {"tls_handshakes", "resumed"}), 0);
    stop_server(no_resume_server);
}

// With many connections in flight at once, each offers the thread's newest session: only
// the first handshakes (before any ticket has arrived) may be full. Offering the one cached
// session object itself let any connection spoil it for all: 5-13% came out full.
TEST_F(LoadgenTls, ResumptionHoldsWithManyConnectionsInFlight)
{
    TestProc server, lg;
    int port = start_tls(server);
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(run_tls(lg, port, {"-n", "600", "-c", "10", "-t", "1", "--tls-resume", "--tls-ca",
                                 cert("ca.pem")}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 600) << lg.out();
    EXPECT_LE(json_number(lg.out(), {"tls_handshakes", "full"}), 10) << lg.out();
    stop_server(server);
}

// Verification failures are tls_handshake errors counted by reason, and exit 1.
TEST_F(LoadgenTls, VerificationFailuresCountedByReason)
{
    TestProc server;
    int port = start_tls(server);
    ASSERT_GT(port, 0) << server.err();
    TestProc untrusted, wrong_name, insecure;
    EXPECT_EQ(run_tls(untrusted, port, {"-n", "20", "-c", "4"}), 1); // the system store only
    EXPECT_EQ(json_number(untrusted.out(), {"errors", "tls_handshake"}), 20) << untrusted.out();
    EXPECT_EQ(json_number(untrusted.out(), {"errors", "total"}), 20);
    size_t reasons = untrusted.out().find("\"tls_reasons\": {");
    ASSERT_NE(reasons, std::string::npos) << untrusted.out();
    EXPECT_EQ(untrusted.out().find("\"certificate verify failed: ", reasons),
              untrusted.out().find_first_of('"', reasons + 16))
        << "the first reason: " << untrusted.out();
    EXPECT_EQ(run_tls(wrong_name, port, {"-n", "20", "-c", "4", "--tls-ca", cert("ca.pem"),
                                         "--servername", "wrong.example"}),
              1);
    EXPECT_EQ(json_number(wrong_name.out(), {"errors", "tls_handshake"}), 20);
    EXPECT_NE(wrong_name.out().find("\"certificate verify failed: hostname mismatch\": 20"),
              std::string::npos)
        << wrong_name.out();
    EXPECT_NE(wrong_name.err().find("tls failure    20 x certificate verify failed"),
              std::string::npos)
        << wrong_name.err();
    EXPECT_EQ(run_tls(insecure, port, {"-n", "20", "-c", "4", "--insecure"}), 0);
    EXPECT_EQ(json_number(insecure.out(), {"greetings"}), 20) << insecure.out();
    stop_server(server);
}

// A plaintext server: the greeting is no ServerHello.
TEST_F(LoadgenTls, PlaintextServerIsNotTls)
{
    TestProc server, lg;
    int port = start_server(server);
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(run_tls(lg, port, {"-n", "10", "-c", "2", "--tls-ca", cert("ca.pem")}), 1);
    EXPECT_EQ(json_number(lg.out(), {"errors", "tls_handshake"}), 10) << lg.out();
    EXPECT_NE(lg.out().find("\"peer did not speak TLS"), std::string::npos) << lg.out();
    stop_server(server);
}

// Mutual TLS: a client certificate gets greetings; without one, TLS 1.3 finishes the client's
// handshake and the server's refusal arrives after it, as a tls_stream error.
TEST_F(LoadgenTls, DialogRunsOverTlsAndUnix)
{
    TempDir dir;
    std::string dialog = dir.path("greeter.dialog");
    {
        FILE *f = fopen(dialog.c_str(), "we");
        ASSERT_NE(f, nullptr);
        fputs("# greeter-server reads nothing: the send only goes first\n"
              "send hello\\r\\n\n"
              "expect-re ^Thank you for conn\n",
              f);
        fclose(f);
    }
    TestProc tls_server, tls_lg;
    int port = start_tls(tls_server);
    ASSERT_GT(port, 0) << tls_server.err();
    ASSERT_EQ(run_tls(tls_lg, port, {"-n", "50", "-c", "4", "--tls-ca", cert("ca.pem"),
                                     "--dialog", dialog}),
              0)
        << tls_lg.err();
    EXPECT_EQ(json_number(tls_lg.out(), {"greetings"}), 50) << tls_lg.out();
    EXPECT_EQ(json_number(tls_lg.out(), {"latency_us", "expect1", "count"}), 50);
    std::string path = dir.path("stream.sock");
    TestProc unix_server, unix_lg;
    ASSERT_EQ(start_server(unix_server, {"--unix", path}), 0) << unix_server.err();
    ASSERT_EQ(loadgen(unix_lg, {"--unix", path, "-n", "50", "-c", "4", "-q", "--dialog", dialog,
                                "--json", "-"}),
              0)
        << unix_lg.err();
    EXPECT_EQ(json_number(unix_lg.out(), {"greetings"}), 50) << unix_lg.out();
    EXPECT_EQ(json_number(unix_lg.out(), {"latency_us", "expect1", "count"}), 50);
}

// openssl s_server -rev answers each line reversed, over TLS, on one connection: a dialog
// whose expect comes before a send, and keep-alive requests, each reply read past TLS records.
TEST_F(LoadgenTls, KeepAliveDialogOverTlsAgainstOpensslServer)
{
    TempDir dir;
    std::string dialog = dir.path("rev.dialog");
    {
        FILE *f = fopen(dialog.c_str(), "we");
        ASSERT_NE(f, nullptr);
        fputs("send hello\\n\nexpect olleh\nsend ABC\\n\nexpect-re ^CBA$\n", f);
        fclose(f);
    }
    TestProc server;
    ASSERT_TRUE(server.start({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                              cert("server.pem"), "-key", cert("server.key"), "-rev"}))
        << server.error();
    std::string line = server.wait_for_line("ACCEPT ", 10000);
    ASSERT_FALSE(line.empty()) << server.err();
    int port = std::stoi(line.substr(line.rfind(':') + 1));
    TestProc lg; // s_server serves one connection at a time
    // --insecure: s_server sends no intermediate; verification is tested above.
    ASSERT_EQ(run_tls(lg, port, {"-n", "3", "-c", "1", "--insecure", "--dialog", dialog,
                                 "--requests", "30", "--timeout", "5s"}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 3) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"requests"}), 3 * 29);
    EXPECT_EQ(json_number(lg.out(), {"failed_requests"}), 0);
    EXPECT_EQ(json_number(lg.out(), {"latency_us", "expect2", "count"}), 3);
    EXPECT_EQ(json_number(lg.out(), {"replies", "expect1: olleh\\\\n"}), 3) << lg.out();
    server.send_signal(SIGTERM);
    server.wait_exit(5000);
}

TEST_F(LoadgenTls, MutualTls)
{
    TestProc server, good, none;
    int port = start_tls(server, {"--tls-client-ca", cert("ca.pem")});
    ASSERT_GT(port, 0) << server.err();
    EXPECT_EQ(run_tls(good, port, {"-n", "20", "-c", "2", "--tls-ca", cert("ca.pem"),
                                   "--tls-cert", cert("client.pem"), "--tls-key",
                                   cert("client.key")}),
              0)
        << good.err();
    EXPECT_EQ(json_number(good.out(), {"greetings"}), 20);
    EXPECT_EQ(run_tls(none, port, {"-n", "10", "-c", "2", "--tls-ca", cert("ca.pem")}), 1);
    EXPECT_EQ(json_number(none.out(), {"greetings"}), 0) << none.out();
    EXPECT_EQ(json_number(none.out(), {"errors", "tls_handshake"}) +
                  json_number(none.out(), {"errors", "tls_stream"}),
              10)
        << none.out();
    stop_server(server);
}

TEST(LoadgenUdp, ExactCountsAgainstTheServer)
{
    TestProc server, lg;
    int port = start_server(server, {"--udp"});
    ASSERT_GT(port, 0) << server.err();
    ASSERT_EQ(loadgen(lg, {"--udp", "-n", "1000", "-c", "10", "-q", "--json", "-",
                           "127.0.0.1:" + std::to_string(port)}),
              0)
        << lg.err();
    const std::string &j = lg.out();
    EXPECT_EQ(json_number(j, {"greetings"}), 1000) << j;
    EXPECT_EQ(json_number(j, {"bytes_read"}), 1000 * 24);
    EXPECT_EQ(json_number(j, {"latency_us", "greeting", "count"}), 1000);
    EXPECT_EQ(j.find("\"connect\":"), std::string::npos) << "no connect phase for datagrams";
    EXPECT_NE(j.find("\"transport\": \"udp\""), std::string::npos);
    std::string summary = stop_server(server);
    EXPECT_EQ(summary_field(summary, "greeted"), 1000) << summary;
}

// Nothing bound: ICMP port unreachable comes back as refused. Bound but silent: timeouts.
TEST(LoadgenUdp, LostRepliesAreCounted)
{
    int silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)), 0);
    getsockname(silent, reinterpret_cast<sockaddr *>(&sin), &len);
    std::string silent_target = "127.0.0.1:" + std::to_string(ntohs(sin.sin_port));
    TestProc timeouts;
    EXPECT_EQ(loadgen(timeouts, {"--udp", "-n", "6", "-c", "3", "--timeout", "200ms", "-q",
                                 "--json", "-", silent_target}),
              1);
    EXPECT_EQ(json_number(timeouts.out(), {"errors", "timeout"}), 6) << timeouts.out();
    close(silent); // now nothing is bound there
    TestProc refused;
    EXPECT_EQ(loadgen(refused, {"--udp", "-n", "6", "-c", "3", "--timeout", "2s", "-q",
                                "--json", "-", silent_target}),
              1);
    EXPECT_EQ(json_number(refused.out(), {"errors", "refused"}), 6) << refused.out();
}

TEST(LoadgenUnix, StreamAndDatagram)
{
    TempDir dir;
    for (bool dgram : {false, true}) {
        std::string path = dir.path(dgram ? "dgram.sock" : "stream.sock");
        std::vector<std::string> args = {"--unix", path};
        if (dgram)
            args.push_back("--udp");
        TestProc server, lg;
        ASSERT_EQ(start_server(server, args), 0) << server.err();
        std::vector<std::string> lg_args = {"--unix", path, "-n", "500", "-c", "8", "-q",
                                            "--json", "-"};
        if (dgram)
            lg_args.push_back("--udp");
        ASSERT_EQ(loadgen(lg, lg_args), 0) << lg.err();
        EXPECT_EQ(json_number(lg.out(), {"greetings"}), 500) << lg.out();
        EXPECT_NE(lg.out().find(std::string("\"transport\": \"") +
                                (dgram ? "unix-dgram" : "unix") + "\""),
                  std::string::npos)
            << lg.out();
        EXPECT_NE(lg.out().find("\"target\": \"" + path + "\""), std::string::npos);
        EXPECT_EQ(summary_field(stop_server(server), "greeted"), 500);
    }
}

TEST(LoadgenIpv6, SourceAddressAndReports)
{
    TestProc server, lg;
    int port = start_server(server, {"-H", "::1", "--access-log"});
    ASSERT_GT(port, 0) << server.err();
    std::string target = "[::1]:" + std::to_string(port);
    ASSERT_EQ(loadgen(lg, {"-n", "20", "-c", "2", "-q", "--source", "[::1]", "--csv", "-",
                           target}),
              0)
        << lg.err();
    EXPECT_NE(lg.err().find("target " + target + " (tcp)"), std::string::npos) << lg.err();
    EXPECT_NE(lg.err().find("sources: 1 local addresses"), std::string::npos) << lg.err();
    EXPECT_NE(lg.out().find("\ngreeting,20,"), std::string::npos) << lg.out();
    TestProc udp_server, udp;
    int udp_port = start_server(udp_server, {"-H", "::1", "--udp"});
    ASSERT_GT(udp_port, 0) << udp_server.err();
    EXPECT_EQ(loadgen(udp, {"--udp", "-n", "50", "-c", "5", "-q", "--source", "::1", "--json",
                            "-", "[::1]:" + std::to_string(udp_port)}),
              0)
        << udp.err();
    EXPECT_EQ(json_number(udp.out(), {"greetings"}), 50) << udp.out();
    stop_server(udp_server);
    TestProc mixed;
    EXPECT_EQ(loadgen(mixed, {"-n", "1", "-q", "--source", "127.0.0.1", target}), 2);
    EXPECT_NE(mixed.err().find("must be IPv6 like the target"), std::string::npos) << mixed.err();
    stop_server(server);
    std::string log = server.out() + server.err();
    EXPECT_NE(log.find("('::1', "), std::string::npos) << log.substr(0, 1000);
}

TEST(LoadgenTransportUsage, BadCombinationsExit2WithOneLine)
{
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"--tls-ca", "ca.pem", "127.0.0.1:1"},
             {"--insecure", "127.0.0.1:1"},
             {"--tls-resume", "127.0.0.1:1"},
             {"--tls", "--udp", "127.0.0.1:1"},
             {"--tls", "--tls-min", "1.1", "127.0.0.1:1"},
             {"--tls", "--tls-cert", "c.pem", "127.0.0.1:1"},
             {"--unix", "/tmp/x.sock", "127.0.0.1:1"},
             {"--unix", "/tmp/x.sock", "--source", "127.0.0.1"},
         }) {
        TestProc lg;
        EXPECT_EQ(loadgen(lg, args), 2) << args[0] << ": " << lg.err();
        EXPECT_EQ(std::count(lg.err().begin(), lg.err().end(), '\n'), 1) << lg.err();
        EXPECT_NE(lg.err().find("loadgen --help"), std::string::npos) << lg.err();
    }
    TestProc tls;
    int rc = loadgen(tls, {"--tls", "-n", "1", "--tls-ca", "/nonexistent/ca.pem", "127.0.0.1:1"});
    if (tls_available()) {
        EXPECT_EQ(rc, 1); // a setup failure, named once
        EXPECT_NE(tls.err().find("--tls-ca /nonexistent/ca.pem"), std::string::npos) << tls.err();
    } else {
        EXPECT_EQ(rc, 2);
        EXPECT_NE(tls.err().find("TLS support is not built in"), std::string::npos) << tls.err();
    }
}

TEST(LoadgenTransportUsage, HelpListsTheTransportOptions)
{
    TestProc lg;
    ASSERT_EQ(loadgen(lg, {"--help"}), 0);
    for (const char *opt : {"--udp", "--unix PATH", "--tls ", "--tls-ca", "--insecure",
                            "--servername", "--tls-cert", "--tls-key", "--tls-min",
                            "--tls-resume", "tls_reasons", "tls_handshakes"})
        EXPECT_NE(lg.out().find(opt), std::string::npos) << opt;
}

} // namespace
