// test_metrics.cc -- greeter-server --metrics: the page passes promtool, every model shows the
// same names, the counters match the summary, a real Prometheus scrapes it under load, and
// junk, huge and slow requests to the metrics port are refused without harm to greetings.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_testutil.h"
#include "metrics_http.h"
#include "prometheus_testutil.h"
#include "testproc.h"
#include "tls.h"

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t)
{
    return (long)std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Starts greeter-server with --metrics on a kernel-chosen port; fills both ports (the
// greeting port is -1 on a UNIX socket).
bool start_with_metrics(TestProc &server, const std::vector<std::string> &extra, int *port,
                        int *metrics_port)
{
    std::vector<std::string> args = {"--metrics", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    *port = start_server(server, args);
    std::string line = server.wait_for_line("metrics on http://127.0.0.1:", 5000);
    *metrics_port = line.empty() ? -1 : atoi(line.c_str() + line.rfind(':') + 1);
    return *metrics_port > 0;
}

// The status line says 200 (HTTP/1.0 or 1.1).
bool is_ok(const std::string &answer)
{
    return answer.rfind("HTTP/1.", 0) == 0 && answer.compare(8, 5, " 200 ") == 0;
}

// One raw request to 127.0.0.1:port; the whole answer (headers and body).
std::string http(int port, const std::string &request, int timeout_ms = 5000)
{
    return fetch_greeting(port, timeout_ms, nullptr, request);
}

std::string scrape(int port)
{
    std::string answer = http(port, "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    size_t body = answer.find("\r\n\r\n");
    return is_ok(answer) && body != std::string::npos
               ? answer.substr(body + 4)
               : "";
}

// Every sample on the page: "name{labels}" -> value.
std::map<std::string, double> samples(const std::string &page)
{
    std::map<std::string, double> out;
    std::istringstream in(page);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        size_t space = line.rfind(' ');
        out[line.substr(0, space)] = strtod(line.c_str() + space + 1, nullptr);
    }
    return out;
}

// The metric names on the page (from the TYPE lines).
std::set<std::string> names(const std::string &page)
{
    std::set<std::string> out;
    std::istringstream in(page);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("# TYPE ", 0) == 0)
            out.insert(line.substr(7, line.find(' ', 7) - 7));
    return out;
}

// Scrapes until every one of metrics reaches want (counters lag the client's EOF by a moment;
// fork and prefork fold their children's counts in while the page is read, so one page may
// show some of them ahead of others) or 5 s pass.
std::map<std::string, double> scrape_until(int port, const std::vector<std::string> &metrics,
                                           double want)
{
    std::map<std::string, double> got;
    wait_until([&] {
        got = samples(scrape(port));
        for (const auto &metric : metrics)
            if (got[metric] != want)
                return false;
        return true;
    }, 5000);
    return got;
}

// promtool's verdict on a page: "" when it accepts it, else what it said.
std::string promtool_check(const std::string &page)
{
    TestProc promtool;
    if (!promtool.start({"/usr/bin/promtool", "check", "metrics"}, &page))
        return promtool.error();
    int rc = promtool.wait_exit(20000);
    return rc == 0 && promtool.out().empty() && promtool.err().empty()
               ? ""
               : "exit " + std::to_string(rc) + ": " + promtool.out() + promtool.err();
}

TEST(MetricsHttp, AnswersOnlyGetAndHeadOfMetrics)
{
    int body;
    EXPECT_EQ(metrics_http_status("GET /metrics HTTP/1.1\r\n\r\n", &body), 200);
    EXPECT_EQ(body, 1);
    EXPECT_EQ(metrics_http_status("HEAD /metrics HTTP/1.0\r\n\r\n", &body), 200);
    EXPECT_EQ(body, 0);
    EXPECT_EQ(metrics_http_status("GET /metrics?x=1 HTTP/1.1\n\n", &body), 200);
    EXPECT_EQ(metrics_http_status("GET /metricsx HTTP/1.1\r\n\r\n", &body), 404);
    EXPECT_EQ(metrics_http_status("GET / HTTP/1.1\r\n\r\n", &body), 404);
    EXPECT_EQ(metrics_http_status("POST /metrics HTTP/1.1\r\n\r\n", &body), 405);
    EXPECT_EQ(metrics_http_status("DELETE /metrics HTTP/1.1\r\n\r\n", &body), 405);
    EXPECT_EQ(metrics_http_status("GET /metrics\r\n\r\n", &body), 400);
    EXPECT_EQ(metrics_http_status("GET /metrics HTTP/2.0\r\n\r\n", &body), 400);
    EXPECT_EQ(metrics_http_status("GET metrics HTTP/1.1\r\n\r\n", &body), 400);
    EXPECT_EQ(metrics_http_status(" /metrics HTTP/1.1\r\n\r\n", &body), 400);
    EXPECT_EQ(metrics_http_status("hello\r\n\r\n", &body), 400);
    EXPECT_EQ(metrics_http_status("", &body), 400);
}

TEST(Metrics, BadValuesAreUsageErrors)
{
    for (const char *bad : {"70000", "localhost", "::1", "[::1", "127.0.0.1:nosuchservice", ""}) {
        TestProc server;
        EXPECT_EQ(run_command(server, {GREETER_SERVER_BIN, "-p", "0", "--metrics", bad}), 2) << bad;
        EXPECT_NE(server.err().find("--metrics"), std::string::npos) << bad << ": " << server.err();
    }
}

TEST(Metrics, APortInUseStopsTheServerWithAMessage)
{
    TestProc second;
    // Another user's socket on the port (no SO_REUSEPORT): the bind must fail, and say so.
    int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    ASSERT_EQ(bind(taken, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ASSERT_EQ(listen(taken, 1), 0);
    getsockname(taken, (struct sockaddr *)&sin, &len);
    std::string spec = "127.0.0.1:" + std::to_string(ntohs(sin.sin_port));
    EXPECT_EQ(run_command(second, {GREETER_SERVER_BIN, "-p", "0", "--metrics", spec}), 1);
    EXPECT_NE(second.err().find("--metrics: bind " + spec + ": Address already in use"),
              std::string::npos) << second.err();
    close(taken);
}

// The same names in every model, a page promtool accepts, and counters that count.
TEST(Metrics, EveryModelShowsTheSameNamesAndPromtoolAcceptsThem)
{
    const std::vector<std::vector<std::string>> models = {
        {"-m", "pool", "-w", "2"}, {"-m", "fork"},      {"-m", "prefork", "-w", "2"},
        {"-m", "thread"},          {"-m", "iterative"}, {"-m", "event", "-w", "2"}};
    std::set<std::string> pool_names;
    for (const auto &model : models) {
        TestProc server;
        int port, metrics_port;
        ASSERT_TRUE(start_with_metrics(server, model, &port, &metrics_port) && port > 0) << server.err();
        for (int i = 0; i < 3; i++)
            EXPECT_EQ(fetch_greeting(port), kGreeting);
        auto got = scrape_until(metrics_port,
                                {"greeter_connections_accepted_total",
                                 "greeter_connections_greeted_total",
                                 "greeter_connection_duration_seconds_count"},
                                3);
        std::string page = scrape(metrics_port);
        EXPECT_EQ(promtool_check(page), "") << model[1];
        EXPECT_EQ(got["greeter_connections_accepted_total"], 3) << model[1];
        EXPECT_EQ(got["greeter_connections_greeted_total"], 3) << model[1];
        EXPECT_EQ(got["greeter_connection_duration_seconds_count"], 3) << model[1];
        EXPECT_EQ(got["greeter_connections_in_flight"], 0) << model[1];
        EXPECT_GT(got["greeter_listen_backlog_max"], 0) << model[1];
        EXPECT_GT(got["process_resident_memory_bytes"], 0) << model[1];
        EXPECT_GT(got["process_open_fds"], 3) << model[1];
        EXPECT_NE(page.find(",model=\"" + model[1] + "\",transport=\"tcp\",tls=\"off\"} 1\n"),
                  std::string::npos) << page;
        if (model[1] == "pool")
            pool_names = names(page);
        else
            EXPECT_EQ(names(page), pool_names) << model[1];
        stop_server(server);
    }
    EXPECT_GE(pool_names.size(), 20u);
}

// The backlog gauges cover every accept queue: the event model's loops each have their own.
TEST(Metrics, BacklogLimitAddsUpTheEventLoopsQueues)
{
    const std::vector<std::pair<std::vector<std::string>, double>> cases = {
        {{"-m", "pool", "--backlog", "64"}, 64}, {{"-m", "event", "-w", "3", "--backlog", "64"}, 192}};
    for (const auto &[args, want] : cases) {
        TestProc server;
        int port, metrics_port;
        ASSERT_TRUE(start_with_metrics(server, args, &port, &metrics_port)) << server.err();
        EXPECT_EQ(samples(scrape(metrics_port))["greeter_listen_backlog_max"], want) << args[1];
        stop_server(server);
    }
}

// UDP and UNIX listeners have no TCP accept queue: the page leaves the backlog out, and is valid.
TEST(Metrics, DatagramAndUnixPagesAreValidToo)
{
    TempDir dir;
    const std::vector<std::vector<std::string>> setups = {
        {"--udp"}, {"--unix", dir.path("m.sock")}};
    for (const auto &setup : setups) {
        TestProc server;
        int port, metrics_port;
        ASSERT_TRUE(start_with_metrics(server, setup, &port, &metrics_port)) << server.err();
        std::string page = scrape(metrics_port);
        EXPECT_EQ(promtool_check(page), "") << setup[0];
        EXPECT_EQ(names(page).count("greeter_listen_backlog"), 0u) << setup[0];
        EXPECT_EQ(names(page).count("greeter_connections_greeted_total"), 1u) << setup[0];
        stop_server(server);
    }
}

// After a load run the page and the summary line tell the same story, in a threaded and in a
// process model (whose children count into the shared block, histogram included).
TEST(Metrics, CountersEqualTheSummaryAfterALoadRun)
{
    for (const char *model : {"pool", "prefork", "event", "fork"}) {
        TestProc server, lg;
        int port, metrics_port;
        std::vector<std::string> extra = {"-m", model};
        if (std::string(model) != "fork")
            extra.insert(extra.end(), {"-w", "4"});
        ASSERT_TRUE(start_with_metrics(server, extra, &port, &metrics_port) && port > 0) << server.err();
        ASSERT_EQ(loadgen(lg, {"-n", "600", "-c", "50", "-q", "--json", "-",
                               "127.0.0.1:" + std::to_string(port)}),
                  0) << lg.err();
        auto got = scrape_until(metrics_port, {"greeter_connections_in_flight"}, 0);
        std::string out = stop_server(server);
        const std::map<std::string, std::string> pairs = {
            {"accepted", "greeter_connections_accepted_total"},
            {"greeted", "greeter_connections_greeted_total"},
            {"rejected", "greeter_connections_rejected_total"},
            {"failed", "greeter_connections_failed_total"}};
        for (const auto &[field, metric] : pairs)
            EXPECT_EQ(summary_field(out, field), (long)got[metric]) << model << " " << field << "\n" << out;
        EXPECT_EQ(got["greeter_connections_greeted_total"], json_number(lg.out(), {"greetings"}));
        EXPECT_EQ(got["greeter_connection_duration_seconds_count"],
                  got["greeter_connections_greeted_total"] + got["greeter_connections_failed_total"])
            << model;
        EXPECT_EQ(got["greeter_connection_duration_seconds_bucket{le=\"+Inf\"}"],
                  got["greeter_connection_duration_seconds_count"]);
        EXPECT_GT(got["greeter_connection_duration_seconds_sum"], 0);
        EXPECT_EQ(got["greeter_workers_busy"], 0) << model;
    }
}

// The pool's accept thread greets a plain client itself while every worker sleeps (a bare
// greeting costs less than a wake-up): one client at a time, each once the server is idle,
// most connections are counted so (not all: on a loaded machine a worker may still be on its
// way back to sleep). It never does with --always-hand-off, nor for what may wait or costs
// more: TLS, --work-us, an access log.
TEST(Metrics, PoolAcceptThreadServesBareGreetingsOnlyWhileWorkersSleep)
{
    struct Case {
        std::vector<std::string> args;
        bool served_here;
    };
    std::vector<Case> cases = {{{}, true},
                               {{"--always-hand-off"}, false},
                               {{"--work-us", "50"}, false},
                               {{"--access-log", "--access-log-file", "/dev/null"}, false}};
    if (tls_available())
        cases.push_back({{"--tls-cert", test_cert("server.pem"), "--tls-key", test_cert("server.key")}, false});
    const int clients = 21;
    for (const auto &c : cases) {
        std::string what = c.args.empty() ? "defaults" : c.args[0];
        SCOPED_TRACE(what);
        TestProc server;
        int port, metrics_port;
        ASSERT_TRUE(start_with_metrics(server, c.args, &port, &metrics_port) && port > 0) << server.err();
        bool tls = what == "--tls-cert";
        for (int i = 0; i < clients; i++) {
            // Each client once the server is idle: no worker still busy with the last one (a
            // worker that has not gone back to sleep yet would take this one too).
            scrape_until(metrics_port, {"greeter_workers_busy"}, 0);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            if (tls) {
                TlsTestClient client;
                ASSERT_TRUE(client.connect(port) && client.handshake());
                ASSERT_EQ(client.greeting(), kGreeting);
            } else {
                ASSERT_EQ(fetch_greeting(port), kGreeting) << i;
            }
        }
        auto got = scrape_until(metrics_port, {"greeter_connections_greeted_total"}, clients);
        EXPECT_EQ(got["greeter_connections_greeted_total"], clients);
        double here = got["greeter_pool_accept_thread_served_total"];
        if (c.served_here)
            EXPECT_GE(here, clients / 2);
        else
            EXPECT_EQ(here, 0);
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "greeted"), clients) << out;
    }
}

// The connection time ends with the server's part (greeting, close_notify and FIN sent), not
// with the client's side of the close: a TLS client that holds its close is counted while it
// still holds it, in the pool (whose waiting room checks closes lazily), the event and the
// thread model alike.
TEST(Metrics, ConnectionTimeEndsWithTheServersPartNotTheClientsClose)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    for (const char *model : {"pool", "event", "thread"}) {
        SCOPED_TRACE(model);
        TestProc server;
        int port, metrics_port;
        // A long --io-timeout: the server would hold the close that long for the client.
        ASSERT_TRUE(start_with_metrics(server, {"-m", model, "--io-timeout", "30s", "--tls-cert",
                                                test_cert("server.pem"), "--tls-key",
                                                test_cert("server.key")},
                                       &port, &metrics_port) &&
                    port > 0)
            << server.err();
        TlsTestClient client;
        ASSERT_TRUE(client.connect(port));
        ASSERT_TRUE(client.handshake());
        EXPECT_EQ(client.greeting(), kGreeting);
        // The client has its greeting and the server's close_notify, and holds its own.
        auto got = scrape_until(metrics_port, {"greeter_connection_duration_seconds_count"}, 1);
        EXPECT_EQ(got["greeter_connection_duration_seconds_count"], 1);
        EXPECT_LT(got["greeter_connection_duration_seconds_sum"], 5.0);
        client.close();
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "greeted"), 1) << out;
    }
}

// A connection held open, for the slow-client tests: it sent `sent` and waits.
int open_and_send(int port, const std::string &sent)
{
    int fd = connect_tcp(port);
    if (fd >= 0 && !sent.empty())
        send(fd, sent.data(), sent.size(), MSG_NOSIGNAL);
    return fd;
}

TEST(Metrics, JunkHugeAndSlowRequestsAreRefusedWithoutHarmToGreetings)
{
    TestProc server, lg;
    int port, metrics_port;
    ASSERT_TRUE(start_with_metrics(server, {"-w", "4"}, &port, &metrics_port) && port > 0) << server.err();
    // Greeting clients throughout: loadgen must see no error at all.
    ASSERT_TRUE(lg.start({GREETER_LOADGEN_BIN, "-d", "4s", "-c", "20", "-q", "--json", "-",
                          "127.0.0.1:" + std::to_string(port)}));

    EXPECT_EQ(http(metrics_port, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
    EXPECT_EQ(http(metrics_port, "GET /admin HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
    EXPECT_EQ(http(metrics_port, "hello\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
    EXPECT_EQ(http(metrics_port, std::string("\0\1\2GET", 6)).rfind("HTTP/1.1 400 ", 0), 0u);
    std::string head = http(metrics_port, "HEAD /metrics HTTP/1.0\r\n\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u);
    EXPECT_EQ(head.find("# TYPE"), std::string::npos) << "HEAD has no body";

    // Headers longer than the limit: 431, and the rest is read and dropped, not a reset.
    std::string huge = "GET /metrics HTTP/1.1\r\n";
    while (huge.size() < 2 * METRICS_HTTP_REQUEST_MAX)
        huge += "X-Padding: " + std::string(100, 'x') + "\r\n";
    EXPECT_EQ(http(metrics_port, huge).rfind("HTTP/1.1 431 ", 0), 0u);

    // A flood with no end: cut off (431 or a reset) within the time bound, never read whole.
    int flood = connect_tcp(metrics_port);
    ASSERT_GE(flood, 0);
    std::string junk(64 * 1024, 'j');
    auto t0 = Clock::now();
    size_t sent = 0;
    while (ms_since(t0) < 5000) {
        ssize_t n = send(flood, junk.data(), junk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            break; /* the server closed it */
        struct pollfd writable = {flood, POLLOUT, 0};
        poll(&writable, 1, 100);
    }
    EXPECT_LT(ms_since(t0), 5000) << "a flood of " << sent << " bytes was never cut off";
    EXPECT_LT(sent, (size_t)16 << 20);
    close(flood);

    // Slow clients: more idle connections than the listener holds, and one trickling a
    // request. A real scrape still gets through at once, and the trickler gets a 408.
    std::vector<int> idle;
    for (int i = 0; i < 2 * METRICS_HTTP_CONNS; i++)
        idle.push_back(open_and_send(metrics_port, ""));
    int slow = open_and_send(metrics_port, "GET /metr");
    auto t1 = Clock::now();
    EXPECT_NE(scrape(metrics_port), "");
    long scrape_ms = ms_since(t1);
    EXPECT_LT(scrape_ms, 1000);
    std::string slow_answer = read_to_eof(slow, 3 * METRICS_HTTP_TIMEOUT_MS);
    long slow_ms = ms_since(t1);
    EXPECT_EQ(slow_answer.rfind("HTTP/1.1 408 ", 0), 0u) << slow_answer;
    EXPECT_GE(slow_ms, METRICS_HTTP_TIMEOUT_MS / 2);
    EXPECT_LT(slow_ms, 2 * METRICS_HTTP_TIMEOUT_MS);
    printf("[ timing ] scrape behind %d idle connections: %ld ms; slow request cut off after %ld ms\n",
           2 * METRICS_HTTP_CONNS, scrape_ms, slow_ms);
    for (int fd : idle)
        close(fd);

    ASSERT_EQ(lg.wait_exit(20000), 0) << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"errors", "total"}), 0) << lg.out();
    EXPECT_GT(json_number(lg.out(), {"greetings"}), 0);
    std::string out = stop_server(server);
    EXPECT_EQ(summary_field(out, "greeted"), (long)json_number(lg.out(), {"greetings"})) << out;
    EXPECT_EQ(summary_field(out, "failed"), 0) << out;
}

// CPU nanoseconds so far of pid's thread called name (schedstat), or -1.
long long thread_cpu_ns(pid_t pid, const std::string &name)
{
    std::string base = "/proc/" + std::to_string(pid) + "/task";
    for (const auto &task : std::filesystem::directory_iterator(base)) {
        std::string comm;
        std::ifstream(task.path() / "comm") >> comm;
        long long ns = -1;
        if (comm == name && (std::ifstream(task.path() / "schedstat") >> ns))
            return ns;
    }
    return -1;
}

long open_fds(pid_t pid)
{
    long n = 0;
    for (const auto &entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        (void)entry;
        n++;
    }
    return n;
}

// Out of descriptors, a client of the metrics port cannot be accepted and the listener stays
// readable: the metrics thread must rest, not spin on it, and serve again once fds free up.
TEST(Metrics, OutOfDescriptorsTheMetricsThreadRestsInsteadOfSpinning)
{
    TestProc server;
    // 40 descriptors; each client held 3 s by the work: a few dozen clients use them all up.
    std::string cmd = std::string("ulimit -n 40 && exec ") + GREETER_SERVER_BIN +
                      " -H 127.0.0.1 -p 0 --quiet -w 2 --work-us 3000000 --metrics 127.0.0.1:0";
    ASSERT_TRUE(server.start({"/bin/sh", "-c", cmd}));
    int port = server.wait_listening();
    ASSERT_GT(port, 0) << server.err();
    std::string line = server.wait_for_line("metrics on http://127.0.0.1:", 5000);
    int metrics_port = atoi(line.c_str() + line.rfind(':') + 1);
    ASSERT_NE(scrape(metrics_port), "");
    std::vector<int> clients;
    for (int i = 0; i < 60; i++)
        clients.push_back(connect_tcp(port));
    ASSERT_TRUE(wait_until([&] { return open_fds(server.pid()) >= 39; }, 5000))
        << open_fds(server.pid()) << " descriptors open";
    int waiting = connect_tcp(metrics_port); // the kernel completes it; accept() cannot
    ASSERT_GE(waiting, 0);
    long long before = thread_cpu_ns(server.pid(), "metrics");
    ASSERT_GE(before, 0);
    usleep(1000000); // the CPU the thread takes over a second is what is measured
    long long spent = thread_cpu_ns(server.pid(), "metrics") - before;
    EXPECT_LT(spent, 20 * 1000000LL) << "the metrics thread used " << spent / 1000000
                                      << " ms of CPU in a second";
    printf("[ timing ] metrics thread CPU while out of descriptors: %lld ms in 1 s\n",
           spent / 1000000);
    for (int fd : clients)
        close(fd);
    close(waiting);
    // The greeting side frees its descriptors as the work ends; the page comes back. The
    // server is then killed rather than drained (its queued clients are gone anyway).
    EXPECT_TRUE(wait_until([&] { return !scrape(metrics_port).empty(); }, 15000));
}

// A real Prometheus (the Debian package) scrapes greeter every second during a load run and
// answers a query for the greeting rate.
TEST(Metrics, PrometheusScrapesDuringALoadRunAndAnswersForTheRate)
{
#ifdef GREETER_SANITIZED
    GTEST_SKIP() << "the plain build runs this one (tests/metrics.cmake)";
#endif
    TempDir dir;
    TestProc server, prometheus, lg;
    int port, metrics_port;
    ASSERT_TRUE(start_with_metrics(server, {"-w", "4"}, &port, &metrics_port) && port > 0) << server.err();
    std::ofstream(dir.path("prometheus.yml"))
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: greeter\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << metrics_port << "']\n";
    int web = closed_port(); /* prometheus cannot be told to pick one and say which */
    ASSERT_GT(web, 0);
    ASSERT_TRUE(prometheus.start({"/usr/bin/prometheus", "--config.file=" + dir.path("prometheus.yml"),
                                  "--storage.tsdb.path=" + dir.path("data"),
                                  "--web.listen-address=127.0.0.1:" + std::to_string(web),
                                  "--log.level=warn"}));
    auto t0 = Clock::now();
    ASSERT_TRUE(wait_until([&] { return is_ok(http(web, "GET /-/ready HTTP/1.0\r\n\r\n", 1000)); },
                           20000)) << "prometheus never became ready: " << prometheus.err();
    // Prometheus applies its targets on a 5-second tick: wait for the first scrape.
    ASSERT_TRUE(wait_until([&] { return prometheus_query(web, "up{job=\"greeter\"}") == 1; }, 20000))
        << "prometheus never scraped greeter: " << prometheus.err();
    long ready_ms = ms_since(t0);

    ASSERT_EQ(loadgen(lg, {"-d", "3s", "-c", "50", "-q", "--json", "-",
                           "127.0.0.1:" + std::to_string(port)}),
              0) << lg.err();
    double greetings = json_number(lg.out(), {"greetings"});
    // Wait for a scrape after the run: then Prometheus holds the final count.
    double stored = -1;
    auto t1 = Clock::now();
    wait_until([&] {
        return (stored = prometheus_query(web, "greeter_connections_greeted_total")) == greetings;
    }, 10000);
    EXPECT_EQ(stored, greetings);
    double rate = prometheus_query(web, "rate(greeter_connections_greeted_total[10s])");
    // About the run's greetings spread over the 10 s window (Prometheus extrapolates a little).
    EXPECT_GT(rate, greetings / 20);
    EXPECT_LT(rate, 1.5 * json_number(lg.out(), {"rate"}));
    printf("[ timing ] prometheus scraping after %ld ms; loadgen %.0f greetings/s; Prometheus: "
           "rate over 10 s %.0f/s, final count seen %ld ms after the run\n",
           ready_ms, json_number(lg.out(), {"rate"}), rate, ms_since(t1));
    prometheus.send_signal(SIGTERM);
    EXPECT_EQ(prometheus.wait_exit(10000), 0) << prometheus.err();
    stop_server(server);
}

// The alert rules shipped for Prometheus: valid, and firing when they should (promtool's own
// rule unit tests on synthetic series).
// promtool's "check rules" on a shipped rule file, then its "test rules" on the unit tests of
// it (both paths from the source tree's root).
void promtool_rules(const std::string &rules_file, const std::string &cases_file)
{
    TestProc check, unit;
    std::string rules = std::string(GREETER_SOURCE_DIR) + "/" + rules_file;
    EXPECT_EQ(run_command(check, {"/usr/bin/promtool", "check", "rules", rules}), 0)
        << check.out() << check.err();
    std::string cases = std::string(GREETER_SOURCE_DIR) + "/" + cases_file;
    EXPECT_EQ(run_command(unit, {"/usr/bin/promtool", "test", "rules", cases}), 0)
        << unit.out() << unit.err();
}

TEST(Metrics, AlertRulesPassPromtoolAndFireWhenTheyShould)
{
    promtool_rules("deploy/prometheus/greeter-alerts.yml", "tests/metrics-alerts-test.yml");
}

// The fleet's recording rules (deploy/prometheus/greeter-fleet.yml): valid, and giving the
// fleet's greetings/s and its p99 from the instances' histograms added bucket by bucket.
TEST(Metrics, FleetRecordingRulesPassPromtool)
{
    promtool_rules("deploy/prometheus/greeter-fleet.yml", "tests/metrics-fleet-test.yml");
}

// /ready on the metrics port: 200 while serving, 503 once SIGTERM's drain has begun (a
// readiness probe takes the instance out before it goes), and no probe counts as a client.
TEST(MetricsHttp, ReadySaysDrainingOnceStoppingAndProbesAreNoClients)
{
    int body;
    EXPECT_EQ(metrics_http_status("GET /ready HTTP/1.1\r\n\r\n", &body), 200);
    EXPECT_EQ(metrics_http_is_ready_request("GET /ready HTTP/1.1\r\n\r\n"), 1);
    EXPECT_EQ(metrics_http_is_ready_request("GET /ready?x HTTP/1.1\r\n\r\n"), 1);
    EXPECT_EQ(metrics_http_is_ready_request("GET /readyz HTTP/1.1\r\n\r\n"), 0);
    EXPECT_EQ(metrics_http_is_ready_request("GET /metrics HTTP/1.1\r\n\r\n"), 0);
    TestProc server;
    int port, metrics_port;
    // The held client keeps the drain going while /ready is asked.
    ASSERT_TRUE(start_with_metrics(server, {"--work-us", "1500000"}, &port, &metrics_port))
        << server.err();
    const std::string ask = "GET /ready HTTP/1.1\r\nHost: probe\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        std::string answer = http(metrics_port, ask);
        EXPECT_TRUE(is_ok(answer)) << answer;
        EXPECT_NE(answer.find("\r\n\r\nready\n"), std::string::npos) << answer;
    }
    int held = connect_tcp(port);
    ASSERT_GE(held, 0);
    ASSERT_TRUE(wait_until([&] { return accept_backlog(port) == 0; }));
    server.send_signal(SIGTERM);
    std::string answer;
    EXPECT_TRUE(wait_until([&] {
        answer = http(metrics_port, ask);
        return answer.rfind("HTTP/1.1 503 ", 0) == 0;
    }, 1000)) << answer;
    EXPECT_NE(answer.find("draining"), std::string::npos) << answer;
    EXPECT_EQ(read_to_eof(held, 5000), kGreeting);
    EXPECT_EQ(server.wait_exit(10000), 0) << server.err();
    EXPECT_EQ(summary_field(server.out(), "accepted"), 1) << server.out();
    EXPECT_EQ(summary_field(server.out(), "greeted"), 1) << server.out();
}

} // namespace
