// test_client.cc -- greeter-client against the real server and against closed or silent ports.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "testproc.h"

namespace {

// A listener that never accepts or writes: clients connect (backlog) and wait.
struct SilentListener {
    int fd = -1;
    int port = 0;
    SilentListener()
    {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sin = {};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(sin);
        bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin));
        listen(fd, 8);
        getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len);
        port = ntohs(sin.sin_port);
    }
    ~SilentListener() { close(fd); }
};

TEST(Client, GreetsThroughEveryAddressForm)
{
    TestProc server;
    int port = start_server(server);
    ASSERT_GT(port, 0) << server.err();
    std::string p = std::to_string(port);
    const std::vector<std::vector<std::string>> forms = {
        {"127.0.0.1", p}, {"-H", "127.0.0.1", "-p", p}, {"127.0.0.1:" + p}, {"2130706433", p},
        {"localhost", p}, {"--host=127.0.0.1", "--port=" + p}};
    for (const auto &form : forms) {
        TestProc client;
        EXPECT_EQ(run_client(client, form), 0) << form[0] << ": " << client.err();
        EXPECT_EQ(client.out(), kGreeting + "\n") << form[0];
    }
    EXPECT_EQ(summary_field(stop_server(server), "greeted"), (long)forms.size());
}

TEST(Client, RefusedSaysSoAndExitsOne)
{
    TestProc client;
    int port = closed_port();
    EXPECT_EQ(run_client(client, {"127.0.0.1", std::to_string(port)}), 1);
    EXPECT_NE(client.err().find("connect 127.0.0.1:" + std::to_string(port) + ": Connection refused"),
              std::string::npos)
        << client.err();
    EXPECT_EQ(client.out(), "");
}

TEST(Client, SilentServerTimesOut)
{
    SilentListener silent;
    TestProc client;
    EXPECT_EQ(run_client(client, {"-t", "300ms", "127.0.0.1",
                                   std::to_string(silent.port)}),
              1);
    EXPECT_NE(client.err().find("no complete greeting within 300 ms"), std::string::npos)
        << client.err();
}

TEST(Client, UnknownHostAndServiceAreNamed)
{
    TestProc a;
    // An empty label: the resolver refuses the name before any query leaves the machine.
    EXPECT_EQ(run_client(a, {"no-such-host..invalid", "80"}), 1);
    EXPECT_NE(a.err().find("unknown host 'no-such-host..invalid'"), std::string::npos) << a.err();
    TestProc b;
    EXPECT_EQ(run_client(b, {"127.0.0.1", "wwx"}), 2);
    EXPECT_NE(b.err().find("unknown service 'wwx'"), std::string::npos) << b.err();
    TestProc c;
    EXPECT_EQ(run_client(c, {"--timeout", "never"}), 2);
    EXPECT_NE(c.err().find("--timeout"), std::string::npos) << c.err();
}

TEST(Client, ResolvePrintsGetaddrinfoAnswers)
{
    TestProc r;
    ASSERT_EQ(run_client(r, {"resolve", "localhost", "http"}), 0) << r.err();
    EXPECT_EQ(r.out().rfind("local host name: ", 0), 0u) << r.out();
    EXPECT_NE(r.out().find("(AF_INET, SOCK_STREAM, 6, 'localhost', ('127.0.0.1', 80))"),
              std::string::npos)
        << r.out();
    TestProc bad;
    EXPECT_EQ(run_client(bad, {"resolve", "localhost"}), 2);
}

// The tutorial's '' is this host as a server binds it: the wildcard addresses, IPv4 first.
TEST(Client, ResolveEmptyHostGivesTheWildcardAddresses)
{
    TestProc r;
    ASSERT_EQ(run_client(r, {"resolve", "", "www"}), 0) << r.err();
    size_t v4 = r.out().find("(AF_INET, SOCK_STREAM, 6, '', ('0.0.0.0', 80))");
    EXPECT_NE(v4, std::string::npos) << r.out();
    size_t v6 = r.out().find("(AF_INET6, SOCK_STREAM, 6, '', ('::', 80, 0, 0))");
    if (v6 != std::string::npos) { // a machine without IPv6 lists none
        EXPECT_LT(v4, v6) << r.out();
    }
    EXPECT_EQ(r.err().find("ai_flags"), std::string::npos) << r.err();
}

} // namespace
