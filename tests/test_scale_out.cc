// test_scale_out.cc -- the scale-out recipe of docs/scale-out.md, run: HAProxy (the shipped
// deploy/haproxy/haproxy.cfg, send-proxy-v2, tcp-check through the PROXY header) in front of
// three greeter instances on loopback; loadgen -c 1000 through it while the three are upgraded
// one after another (SIGUSR2) and one is drained in HAProxy, stopped and started again. No
// client sees an error, loadgen's greetings are the instances' greeted less the health checks,
// and the access logs show loadgen's own source addresses.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "balancer_testutil.h"
#include "prometheus_testutil.h"
#include "testproc.h"
#include "upgrade_testutil.h"

namespace {

const char *const kSources[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};

// The load's length in seconds: 8, or GREETER_SCALE_OUT_SECONDS (tools/scale-out, by hand).
int load_seconds()
{
    const char *env = getenv("GREETER_SCALE_OUT_SECONDS");
    int s = env ? atoi(env) : 0;
    return s > 0 ? s : 8;
}

std::string read_file(const std::string &path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Field `index` (from 1) of show stat's line for greeters/NAME; "" if absent.
std::string haproxy_field(const std::string &sock, const std::string &name, int index)
{
    std::istringstream csv(haproxy_stat(sock));
    for (std::string line; std::getline(csv, line);) {
        if (line.rfind("greeters," + name + ",", 0) != 0)
            continue;
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i < index && std::getline(fields, field, ','); i++) {
        }
        return field;
    }
    return "";
}

// HAProxy's current sessions to greeters/NAME (scur, field 5), -1 if absent.
long haproxy_sessions(const std::string &sock, const std::string &name)
{
    std::string scur = haproxy_field(sock, name, 5);
    return scur.empty() ? -1 : std::stol(scur);
}

// Its status (field 18): UP, DOWN, DRAIN, MAINT, ...
std::string haproxy_status(const std::string &sock, const std::string &name)
{
    return haproxy_field(sock, name, 18);
}

struct Instance {
    TestProc proc; // the first process; its successors write to the same pipes
    int port = -1;
    pid_t current = -1;
    int metrics_port = -1; // fixed: Prometheus scrapes it across upgrades and the restart
    std::string log;
};

// The Debian Prometheus scraping the three instances every second, with the shipped fleet
// recording rules; its web port, or -1.
int start_prometheus(TestProc &prometheus, const TempDir &dir, const Instance *fleet)
{
    std::ofstream conf(dir.path("prometheus.yml"));
    conf << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         << "rule_files:\n  - " << GREETER_SOURCE_DIR << "/deploy/prometheus/greeter-fleet.yml\n"
         << "scrape_configs:\n  - job_name: greeter\n    static_configs:\n      - targets: [";
    for (int i = 0; i < 3; i++)
        conf << (i ? ", " : "") << "'127.0.0.1:" << fleet[i].metrics_port << "'";
    conf << "]\n";
    conf.close();
    int web = free_low_port();
    if (web < 0 || !prometheus.start({"/usr/bin/prometheus", "--config.file=" + dir.path("prometheus.yml"),
                                      "--storage.tsdb.path=" + dir.path("data"),
                                      "--web.listen-address=127.0.0.1:" + std::to_string(web),
                                      "--log.level=warn"}))
        return -1;
    return web;
}

bool start_instance(Instance &in, const std::vector<std::string> &extra = {})
{
    std::vector<std::string> args = {"--proxy-protocol", "--access-log-format", "full",
                                     "--access-log-file", in.log, "--metrics",
                                     "127.0.0.1:" + std::to_string(in.metrics_port)};
    args.insert(args.end(), extra.begin(), extra.end());
    in.port = start_server(in.proc, args, false); // not quiet: the log names each successor
    in.current = in.proc.pid();
    return in.port > 0;
}

// SIGUSR2 to the instance's newest process; waits until the old one has drained (its summary).
void upgrade(Instance &in)
{
    size_t before = successors(in.proc.err()).size();
    kill(in.current, SIGUSR2);
    ASSERT_NE(in.proc.wait_for_line("summary:", 10000), "") << in.proc.err();
    // The summary comes on stdout, the successor's line on stderr: another pipe, which may be
    // read a moment later (one sanitized run found the summary and not yet the line).
    std::vector<pid_t> pids;
    wait_until([&] {
        in.proc.wait_for_line(std::string(1, '\x01'), 20); // collects stderr meanwhile
        pids = successors(in.proc.err());
        return pids.size() == before + 1;
    }, 5000);
    ASSERT_EQ(pids.size(), before + 1) << in.proc.err();
    in.current = pids.back();
}

TEST(ScaleOut, UpgradesAndARestartBehindHaproxyUnderLoadLoseNoClient)
{
    std::string haproxy = find_tool("haproxy");
    if (haproxy.empty()) {
        ASSERT_FALSE(in_ci()) << "haproxy is not installed (GREETER_TEST_PACKAGES has it)";
        GTEST_SKIP() << "haproxy is not installed";
    }
    TempDir dir;
    Instance fleet[3], restarted;
    struct KillLeft { // no successor outlives the test, whatever happens
        Instance *fleet;
        ~KillLeft()
        {
            for (int i = 0; i < 3; i++)
                for (pid_t pid : successors(fleet[i].proc.err()))
                    kill(pid, SIGKILL);
        }
    } kill_left{fleet};
    for (int i = 0; i < 3; i++) {
        fleet[i].log = dir.path("access" + std::to_string(i + 1) + ".log");
        fleet[i].metrics_port = free_low_port();
        ASSERT_TRUE(start_instance(fleet[i])) << fleet[i].proc.err();
    }
    TestProc prometheus;
    int web = start_prometheus(prometheus, dir, fleet);
    ASSERT_GT(web, 0) << prometheus.error();
    int frontend = free_low_port();
    ASSERT_GT(frontend, 0);
    std::map<std::string, std::string> fields = {
        {"FRONTEND", "127.0.0.1:" + std::to_string(frontend)}, {"SEND_PROXY", "send-proxy-v2"},
        {"RUNDIR", dir.dir()}};
    for (int i = 0; i < 3; i++)
        fields["SERVER" + std::to_string(i + 1)] = "127.0.0.1:" + std::to_string(fleet[i].port);
    ASSERT_TRUE(fill_template("haproxy/haproxy.cfg", fields, dir.path("haproxy.cfg")));
    TestProc balancer;
    ASSERT_TRUE(balancer.start({haproxy, "-db", "-f", dir.path("haproxy.cfg")})) << balancer.error();
    std::string sock = dir.path("haproxy.sock");
    ASSERT_TRUE(wait_until([&] { return !haproxy_stat(sock).empty(); })) << balancer.err();
    // Prometheus takes up its targets on a 5-second tick: the load starts once all three are.
    ASSERT_TRUE(wait_until([&] { return prometheus_query(web, "count(up{job=\"greeter\"} == 1)") == 3; },
                           20000))
        << prometheus.err();

    TestProc load;
    const int seconds = load_seconds();
    ASSERT_TRUE(load.start({GREETER_LOADGEN_BIN, "-c", "1000", "-d", std::to_string(seconds) + "s", "--source",
                            "127.0.0.2,127.0.0.3,127.0.0.4", "--json", "-",
                            "127.0.0.1:" + std::to_string(frontend)}))
        << load.error();
    for (Instance &in : fleet) { // one after another, under load
        std::this_thread::sleep_for(std::chrono::milliseconds(std::max(700, seconds * 1000 / 8)));
        upgrade(in);
        ASSERT_FALSE(HasFatalFailure());
    }
    // The second one stopped and started again: drained in HAProxy first, so that no client
    // is sent to it while it goes.
    Instance &second = fleet[1];
    haproxy_command(sock, "set server greeters/greeter2 state drain");
    EXPECT_TRUE(wait_until([&] { return haproxy_status(sock, "greeter2") == "DRAIN"; }, 5000))
        << haproxy_stat(sock);
    EXPECT_TRUE(wait_until([&] { return haproxy_sessions(sock, "greeter2") == 0; }, 5000));
    kill(second.current, SIGTERM);
    ASSERT_NE(second.proc.wait_for_line("summary:", 10000), "") << second.proc.err();
    restarted.log = dir.path("access2b.log");
    restarted.metrics_port = second.metrics_port; // the same target for Prometheus
    ASSERT_TRUE(start_instance(restarted, {"-p", std::to_string(second.port)})) << restarted.proc.err();
    haproxy_command(sock, "set server greeters/greeter2 state ready");
    EXPECT_TRUE(wait_until([&] { return haproxy_sessions(sock, "greeter2") > 0; }, 5000))
        << "the restarted instance got no client";

    EXPECT_EQ(load.wait_exit(30000 + seconds * 1000), 0) << load.err();
    long greetings = -1, errors = -1;
    ASSERT_TRUE(loadgen_counts(load.out(), &greetings, &errors)) << load.out();
    // The fleet's figures as the load ends, from the recording rules: greetings/s over the last
    // minute (which the 8-s run fills only in part, so well below loadgen's own rate), the p99.
    double fleet_rate = -1, fleet_p99 = -1;
    EXPECT_TRUE(wait_until([&] {
        fleet_rate = prometheus_query(web, "job:greeter_connections_greeted:rate1m");
        fleet_p99 = prometheus_query(web, "job:greeter_connection_duration_seconds:p99_rate5m");
        return fleet_rate > 0 && fleet_p99 > 0;
    }, 10000)) << prometheus.err();
    EXPECT_LT(fleet_p99, 1.0);
    prometheus.send_signal(SIGTERM);
    EXPECT_EQ(prometheus.wait_exit(10000), 0) << prometheus.err();
    balancer.send_signal(SIGUSR1); // HAProxy's soft stop: connections in progress finish
    balancer.wait_exit(10000);

    std::string summaries, logs;
    for (Instance &in : fleet) {
        if (&in != &second) {
            kill(in.current, SIGTERM);
            EXPECT_NE(in.proc.wait_for_line("summary:", 10000), "") << in.proc.err();
        }
        in.proc.wait_exit(5000);
        summaries += in.proc.out();
        logs += read_file(in.log);
    }
    summaries += stop_server(restarted.proc);
    logs += read_file(restarted.log);

    EXPECT_EQ(errors, 0) << load.out();
    EXPECT_GT(greetings, 1000);
    EXPECT_EQ(sum_field(summaries, "proxy_failed"), 0) << summaries;
    EXPECT_EQ(sum_field(summaries, "failed"), 0) << summaries;
    long from_sources = 0;
    for (const char *source : kSources) {
        long n = greeted_lines_from(logs, source);
        EXPECT_GT(n, 0) << source;
        from_sources += n;
    }
    // Every greeting loadgen got is in an access log under its own source address; the
    // rest of what the instances greeted is HAProxy's health checks (LOCAL: its own address).
    EXPECT_EQ(from_sources, greetings);
    EXPECT_EQ(sum_field(summaries, "greeted"), greetings + greeted_lines_from(logs, "127.0.0.1"))
        << summaries;
    EXPECT_EQ(sum_field(summaries, "accepted"), sum_field(summaries, "greeted")) << summaries;
    printf("scale-out: loadgen greetings=%ld errors=%ld; instances greeted=%ld (health checks %ld); "
           "processes=%zu; Prometheus as the run ended: fleet rate1m %.0f/s, p99 %.2f ms\n",
           greetings, errors, sum_field(summaries, "greeted"), greeted_lines_from(logs, "127.0.0.1"),
           count_of(summaries, "summary:"), fleet_rate, fleet_p99 * 1000);
}

} // namespace
