// test_balancers.cc -- greeter-server behind the real HAProxy (send-proxy, send-proxy-v2, with
// tcp-check health checks through the PROXY header) and nginx's stream proxy (proxy_protocol
// on), run from the shipped configs in deploy/: the instances see each client's own address.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "balancer_testutil.h"
#include "testproc.h"

namespace {

// Three greeter instances, each a different model (the event model has no full access log), with --proxy-protocol and the full access
// log (peer = the address the instance believes is the client's).
struct Fleet {
    TestProc servers[3];
    int ports[3] = {-1, -1, -1};
    bool start()
    {
        const char *models[3] = {"pool", "thread", "prefork"};
        for (int i = 0; i < 3; i++) {
            ports[i] = start_server(servers[i], {"-m", models[i], "--proxy-protocol",
                                                 "--access-log-format", "full"});
            if (ports[i] <= 0) {
                ADD_FAILURE() << servers[i].err();
                return false;
            }
        }
        return true;
    }
    std::map<std::string, std::string> fields(int frontend) const
    {
        std::map<std::string, std::string> f = {{"FRONTEND", "127.0.0.1:" + std::to_string(frontend)}};
        for (int i = 0; i < 3; i++)
            f["SERVER" + std::to_string(i + 1)] = "127.0.0.1:" + std::to_string(ports[i]);
        return f;
    }
    // Stops them; the access logs and summaries, concatenated.
    std::string stop()
    {
        std::string all;
        for (TestProc &s : servers) {
            std::string out = stop_server(s);
            EXPECT_EQ(summary_field(out, "proxy_failed"), 0) << out;
            EXPECT_EQ(summary_unaccounted(out), 0) << out;
            all += out;
        }
        return all;
    }
};

// Nine clients through the balancer at port, three from each of 127.0.0.2, .3 and .4; the
// count of greetings they got. The first waits until the balancer listens.
int nine_clients(int port)
{
    if (!wait_until([&] { return fetch_greeting(port, 2000) == kGreeting; }, 15000))
        return -1;
    int greeted = 0;
    for (int i = 0; i < 9; i++) {
        std::string source = "127.0.0." + std::to_string(2 + i % 3);
        int fd = connect_tcp(port, source.c_str());
        greeted += fd >= 0 && read_to_eof(fd, 5000) == kGreeting;
    }
    return greeted;
}

// Servers of backend greeters that HAProxy's checks found UP with an L7OK (the expected
// string came back through the PROXY header).
int haproxy_servers_up(const std::string &socket_path)
{
    std::istringstream csv(haproxy_stat(socket_path));
    int up = 0;
    for (std::string line; std::getline(csv, line);)
        if (line.rfind("greeters,greeter", 0) == 0 && line.find(",UP,") != std::string::npos &&
            line.find("L7OK") != std::string::npos)
            up++;
    return up;
}

class Haproxy : public ::testing::TestWithParam<std::string> {};

TEST_P(Haproxy, InstancesSeeEachClientsAddressAndChecksPassThroughTheHeader)
{
    std::string haproxy = find_tool("haproxy");
    if (haproxy.empty()) {
        ASSERT_FALSE(in_ci()) << "haproxy is not installed (GREETER_TEST_PACKAGES has it)";
        GTEST_SKIP() << "haproxy is not installed";
    }
    TempDir dir;
    Fleet fleet;
    ASSERT_TRUE(fleet.start());
    int frontend = free_low_port();
    ASSERT_GT(frontend, 0);
    auto fields = fleet.fields(frontend);
    fields["SEND_PROXY"] = GetParam();
    fields["RUNDIR"] = dir.dir();
    ASSERT_TRUE(fill_template("haproxy/haproxy.cfg", fields, dir.path("haproxy.cfg")));
    TestProc balancer;
    ASSERT_TRUE(balancer.start({haproxy, "-db", "-f", dir.path("haproxy.cfg")})) << balancer.error();
    EXPECT_EQ(nine_clients(frontend), 9) << balancer.err();
    EXPECT_TRUE(wait_until([&] { return haproxy_servers_up(dir.path("haproxy.sock")) == 3; }, 10000))
        << haproxy_stat(dir.path("haproxy.sock"));
    balancer.send_signal(SIGTERM);
    balancer.wait_exit(10000);
    std::string logs = fleet.stop();
    for (const char *host : {"127.0.0.2", "127.0.0.3", "127.0.0.4"})
        EXPECT_EQ(greeted_lines_from(logs, host), 3) << host << "\n" << logs;
    EXPECT_GT(greeted_lines_from(logs, "127.0.0.1"), 0) << "no health check was greeted\n" << logs;
}

INSTANTIATE_TEST_SUITE_P(SendProxy, Haproxy, ::testing::Values("send-proxy", "send-proxy-v2"),
                         [](const auto &info) {
                             return info.param == "send-proxy" ? std::string("v1") : std::string("v2");
                         });

TEST(Nginx, StreamProxyProtocolOnGivesEachClientsAddress)
{
    std::string nginx = find_tool("nginx");
    const char *module = "/usr/lib/nginx/modules/ngx_stream_module.so";
    if (nginx.empty() || access(module, R_OK) != 0) {
        ASSERT_FALSE(in_ci()) << "nginx or its stream module is not installed";
        GTEST_SKIP() << "nginx or its stream module is not installed";
    }
    TempDir dir;
    chmod(dir.dir().c_str(), 0755); // nginx's workers drop to nobody when started as root
    Fleet fleet;
    ASSERT_TRUE(fleet.start());
    int frontend = free_low_port();
    ASSERT_GT(frontend, 0);
    auto fields = fleet.fields(frontend);
    fields["STREAM_MODULE"] = module;
    fields["PREFIX"] = dir.dir();
    ASSERT_TRUE(fill_template("nginx/nginx-stream.conf", fields, dir.path("nginx.conf")));
    TestProc balancer;
    ASSERT_TRUE(balancer.start({nginx, "-p", dir.dir(), "-c", dir.path("nginx.conf"), "-e",
                                dir.path("error.log")}))
        << balancer.error();
    EXPECT_EQ(nine_clients(frontend), 9) << balancer.err();
    balancer.send_signal(SIGTERM);
    balancer.wait_exit(10000);
    std::string logs = fleet.stop();
    for (const char *host : {"127.0.0.2", "127.0.0.3", "127.0.0.4"})
        EXPECT_EQ(greeted_lines_from(logs, host), 3) << host << "\n" << logs;
}

} // namespace
