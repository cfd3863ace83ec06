// test_loadgen_real_servers.cc -- loadgen against servers nobody here wrote, started by the
// test on 127.0.0.1: OpenSSH sshd, an SMTP server that enforces synchronization (Postfix),
// redis-server, memcached and nginx. tools/lib.sh installs them (GREETER_TEST_PACKAGES); under
// CI a missing one fails the test instead of skipping it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "loadgen_testutil.h"
#include "testproc.h"

namespace {

bool under_ci()
{
    const char *ci = getenv("CI");
    return ci && std::string(ci) == "true";
}

// Skips (fails under CI) when program is not installed.
#define REQUIRE_PROGRAM(program)                                                            \
    do {                                                                                    \
        if (access(program, X_OK) != 0) {                                                   \
            if (under_ci())                                                                 \
                FAIL() << program << " is missing: tools/test installs it";                 \
            GTEST_SKIP() << program << " is not installed (tools/test installs it)";        \
        }                                                                                   \
    } while (0)

sockaddr_in loopback(int port)
{
    sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(static_cast<uint16_t>(port));
    return sin;
}

// 1 when bind (else connect) to 127.0.0.1:port works.
bool try_port(int port, bool connect_to)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin = loopback(port);
    auto *sa = reinterpret_cast<sockaddr *>(&sin);
    bool ok = (connect_to ? connect(fd, sa, sizeof(sin)) : bind(fd, sa, sizeof(sin))) == 0;
    close(fd);
    return ok;
}

// A port below 32768 with nothing on 127.0.0.1 (bound then closed), for servers that take a
// port number rather than 0.
int free_low_port()
{
    std::mt19937 rng(std::random_device{}());
    for (int attempt = 0; attempt < 100; attempt++) {
        int port = 20000 + static_cast<int>(rng() % 12000);
        if (try_port(port, false))
            return port;
    }
    return -1;
}

bool accepts(int port) { return try_port(port, true); }

// Starts argv and waits until it accepts on port; false (with its stderr in the message)
// when it does not within 10 s.
::testing::AssertionResult start_listening(TestProc &server, const std::vector<std::string> &argv,
                                           int port, int timeout_ms = 10000)
{
    if (!server.start(argv))
        return ::testing::AssertionFailure() << server.error();
    if (!wait_until([port] { return accepts(port); }, timeout_ms))
        return ::testing::AssertionFailure()
               << argv[0] << " did not listen on port " << port << ": " << server.err();
    return ::testing::AssertionSuccess();
}

void write_file(const std::string &path, const std::string &text)
{
    std::ofstream out(path);
    out << text;
}

std::string target(int port) { return "127.0.0.1:" + std::to_string(port); }

} // namespace

TEST(RealServers, SshdBannerPrefixAndMaxStartupsRejectionsShown)
{
    REQUIRE_PROGRAM("/usr/sbin/sshd");
    REQUIRE_PROGRAM("/usr/bin/ssh-keygen");
    TempDir dir;
    TestProc keygen;
    ASSERT_EQ(run_command(keygen, {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                                   dir.path("hostkey")}),
              0)
        << keygen.err();
    // sshd refuses to start without its privilege separation directory (the service makes
    // it at start; nothing else is touched).
    bool made_privsep = mkdir("/run/sshd", 0755) == 0;
    int port = free_low_port();
    write_file(dir.path("sshd_config"),
               "ListenAddress 127.0.0.1:" + std::to_string(port) + "\nHostKey " +
                   dir.path("hostkey") + "\nPidFile " + dir.path("sshd.pid") +
                   "\nMaxStartups 2\nLoginGraceTime 10\nUsePAM no\n");
    TestProc sshd;
    ASSERT_TRUE(start_listening(sshd, {"/usr/sbin/sshd", "-D", "-e", "-f",
                                       dir.path("sshd_config")},
                                port));
    // Ten a second, each done once the banner is in: all greeted, whatever sshd writes. (Back
    // to back, the children of the connections before, not yet gone after their client's
    // close, could still count against MaxStartups on a busy machine: one was refused.)
    TestProc calm;
    EXPECT_EQ(loadgen(calm, {"-n", "10", "-R", "10", "-t", "1", "--expect", "SSH-2.0-", "--json",
                             "-", target(port)}),
              0)
        << calm.err();
    EXPECT_EQ(json_number(calm.out(), {"greetings"}), 10) << calm.out();
    // Twenty at once against MaxStartups 2: the rejections are shown with sshd's own text.
    TestProc crowd;
    loadgen(crowd, {"-n", "100", "-c", "20", "-t", "1", "--expect", "SSH-2.0-", "--json", "-",
                    target(port)});
    EXPECT_GT(json_number(crowd.out(), {"errors", "bad_greeting"}), 0) << crowd.out();
    EXPECT_GT(json_number(crowd.out(), {"failed_replies", "Exceeded MaxStartups\\\\r\\\\n"}), 0)
        << crowd.out();
    EXPECT_NE(crowd.err().find(" x Exceeded MaxStartups\\r\\n"), std::string::npos)
        << crowd.err();
    sshd.send_signal(SIGTERM);
    sshd.wait_exit(5000);
    if (made_privsep)
        rmdir("/run/sshd");
}

TEST(RealServers, RedisPingKeepAlive)
{
    REQUIRE_PROGRAM("/usr/bin/redis-server");
    TempDir dir;
    int port = free_low_port();
    TestProc redis;
    ASSERT_TRUE(start_listening(redis, {"/usr/bin/redis-server", "--port", std::to_string(port),
                                        "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                        "no", "--dir", dir.dir()},
                                port));
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-n", "4", "-c", "2", "-t", "1", "--send", "PING\\r\\n", "--expect",
                           "+PONG", "--requests", "500", "--json", "-", target(port)}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 4) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"requests"}), 4 * 499);
    EXPECT_EQ(json_number(lg.out(), {"failed_requests"}), 0);
    EXPECT_EQ(json_number(lg.out(), {"replies", "+PONG\\\\r\\\\n"}), 4 * 500);
    // A wrong command's error is a failed request, shown.
    TestProc wrong;
    EXPECT_EQ(loadgen(wrong, {"-n", "2", "-c", "1", "--send", "PONG\\r\\n", "--expect", "+PONG",
                              "--requests", "3", "--json", "-", target(port)}),
              1);
    EXPECT_EQ(json_number(wrong.out(), {"errors", "bad_greeting"}), 2) << wrong.out();
    EXPECT_NE(wrong.err().find("x -ERR unknown command 'PONG'"), std::string::npos)
        << wrong.err();
    // Two shards of one test, merged: the new counts and phases add up exactly.
    write_file(dir.path("ping.dialog"), "send PING\\r\\n\nexpect +PONG\n");
    std::string start_at = std::to_string(time(nullptr) + 2);
    TestProc shard[2];
    for (int i = 0; i < 2; i++)
        ASSERT_TRUE(shard[i].start({GREETER_LOADGEN_BIN, "-n", "4", "-c", "2", "-t", "1", "-q",
                                    "--dialog", dir.path("ping.dialog"), "--requests", "20",
                                    "--shard", std::to_string(i) + "/2", "--start-at", start_at,
                                    "--json", dir.path("s" + std::to_string(i) + ".json"),
                                    target(port)}));
    for (auto &s : shard)
        EXPECT_EQ(s.wait_exit(20000), 0) << s.err();
    TestProc merge;
    ASSERT_EQ(run_command(merge, {GREETER_LOADGEN_BIN, "merge", "-o", dir.path("fleet.json"),
                                  dir.path("s0.json"), dir.path("s1.json")}),
              0)
        << merge.err();
    std::ifstream in(dir.path("fleet.json"));
    std::string fleet((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(json_number(fleet, {"greetings"}), 4) << fleet;
    EXPECT_EQ(json_number(fleet, {"requests"}), 4 * 19);
    EXPECT_EQ(json_number(fleet, {"replies", "expect1: +PONG\\\\r\\\\n"}), 4);
    EXPECT_EQ(json_number(fleet, {"replies", "+PONG\\\\r\\\\n"}), 4 * 19);
    EXPECT_EQ(json_number(fleet, {"latency_us", "expect1", "count"}), 4);
    EXPECT_EQ(json_number(fleet, {"latency_us", "request", "count"}), 4 * 19);
    redis.send_signal(SIGTERM);
    redis.wait_exit(5000);
}

TEST(RealServers, MemcachedVersionKeepAliveOpenLoop)
{
    REQUIRE_PROGRAM("/usr/bin/memcached");
    int port = free_low_port();
    TestProc mc;
    ASSERT_TRUE(start_listening(mc, {"/usr/bin/memcached", "-l", "127.0.0.1", "-p",
                                     std::to_string(port), "-U", "0", "-u", "nobody"},
                                port));
    TestProc lg;
    EXPECT_EQ(loadgen(lg, {"-R", "400", "-d", "1s", "-c", "4", "-t", "1", "--send",
                           "version\\r\\n", "--expect-re", "^VERSION [0-9.]+", "--requests", "0",
                           "--json", "-", target(port)}),
              0)
        << lg.err();
    EXPECT_EQ(json_number(lg.out(), {"greetings"}), 4) << "4 connections kept open";
    EXPECT_NEAR(json_number(lg.out(), {"requests"}), 400, 60) << lg.out();
    EXPECT_EQ(json_number(lg.out(), {"failed_requests"}), 0);
    EXPECT_GT(json_number(lg.out(), {"latency_us", "request", "count"}), 300);
    mc.send_signal(SIGTERM);
    mc.wait_exit(5000);
}

TEST(RealServers, NginxNotFoundIsVisible)
{
    REQUIRE_PROGRAM("/usr/sbin/nginx");
    TempDir dir;
    int port = free_low_port();
    write_file(dir.path("nginx.conf"),
               "daemon off;\nmaster_process off;\npid " + dir.path("nginx.pid") +
                   ";\nerror_log " + dir.path("error.log") +
                   ";\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
                   "  client_body_temp_path " + dir.path("body") + ";\n  proxy_temp_path " +
                   dir.path("proxy") + ";\n  fastcgi_temp_path " + dir.path("fcgi") +
                   ";\n  uwsgi_temp_path " + dir.path("uwsgi") + ";\n  scgi_temp_path " +
                   dir.path("scgi") + ";\n  server {\n    listen 127.0.0.1:" +
                   std::to_string(port) + ";\n    location = /ok { return 200 \"ok\\n\"; }\n"
                   "    location / { return 404; }\n  }\n}\n");
    TestProc nginx;
    ASSERT_TRUE(start_listening(nginx, {"/usr/sbin/nginx", "-p", dir.dir(), "-c",
                                        dir.path("nginx.conf"), "-e", dir.path("error.log")},
                                port));
    // No check: the 404s pass, and the report says what they were.
    TestProc any;
    EXPECT_EQ(loadgen(any, {"-n", "20", "-c", "2", "-t", "1", "--send",
                            "GET /missing HTTP/1.0\\r\\n\\r\\n", "--json", "-", target(port)}),
              0)
        << any.err();
    EXPECT_EQ(json_number(any.out(), {"replies", "HTTP/1.1 404 Not Found\\\\r\\\\n"}), 20)
        << any.out();
    EXPECT_NE(any.err().find("20 x HTTP/1.1 404 Not Found\\r\\n"), std::string::npos);
    // A status check on the first line fails them, each shown with what arrived.
    TestProc checked;
    EXPECT_EQ(loadgen(checked, {"-n", "20", "-c", "2", "-t", "1", "--send",
                                "GET /missing HTTP/1.0\\r\\n\\r\\n", "--expect-re",
                                "^HTTP/1\\.[01] 2", "--json", "-", target(port)}),
              1);
    EXPECT_EQ(json_number(checked.out(), {"failed_replies", "HTTP/1.1 404 Not Found\\\\r\\\\n"}),
              20)
        << checked.out();
    nginx.send_signal(SIGTERM);
    nginx.wait_exit(5000);
}

namespace {

// A private Postfix instance: its own config directory, queue and log in dir, one smtpd on
// 127.0.0.1:port that enforces SMTP synchronization (smtpd_forbid_unauth_pipelining, Postfix
// 3.7.11 and later). The system's /etc/postfix is not read or touched.
void write_postfix_config(const TempDir &dir, int port)
{
    chmod(dir.dir().c_str(), 0755); // the daemons run as the postfix user
    mkdir(dir.path("queue").c_str(), 0755);
    mkdir(dir.path("data").c_str(), 0700);
    const passwd *pw = getpwnam("postfix");
    ASSERT_NE(pw, nullptr) << "the postfix package makes the postfix user";
    EXPECT_EQ(chown(dir.path("data").c_str(), pw->pw_uid, pw->pw_gid), 0);
    write_file(dir.path("main.cf"),
               "compatibility_level = 3.6\nqueue_directory = " + dir.path("queue") +
                   "\ndata_directory = " + dir.path("data") +
                   "\nmail_owner = postfix\nsetgid_group = postdrop\n"
                   "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n"
                   "myhostname = loadgen.test\nmydestination =\nalias_maps =\n"
                   "alias_database =\nsmtpd_forbid_unauth_pipelining = yes\n"
                   "maillog_file_prefixes = " + dir.dir() + "\nmaillog_file = " +
                   dir.path("maillog") + "\n");
    write_file(dir.path("master.cf"),
               "127.0.0.1:" + std::to_string(port) + " inet n - n - - smtpd\n"
               "postlog unix-dgram n - n - 1 postlogd\n"
               "proxymap unix - - n - - proxymap\n"
               "anvil unix - - n - 1 anvil\n");
}

} // namespace

TEST(RealServers, SmtpDialogPassesAndAPipelinedBlobShowsPostfixs554)
{
    REQUIRE_PROGRAM("/usr/sbin/postfix");
    TempDir dir("/tmp"); // Postfix's daemons run as the postfix user, who must reach its queue
    int port = free_low_port();
    write_postfix_config(dir, port);
    if (HasFatalFailure())
        return;
    write_file(dir.path("ehlo-quit.dialog"), "# wait for each reply, as RFC 5321 asks\n"
                                             "expect 220 \n"
                                             "send EHLO loadgen.test\\r\\n\n"
                                             "expect-re ^250[ -]\n"
                                             "send QUIT\\r\\n\n"
                                             "expect 221 \n");
    write_file(dir.path("blob.dialog"), "send EHLO loadgen.test\\r\\nQUIT\\r\\n\n"
                                        "expect 220 \n"
                                        "expect 250\n");
    TestProc postfix;
    ASSERT_TRUE(start_listening(postfix, {"/usr/sbin/postfix", "-c", dir.dir(), "start-fg"},
                                port, 30000));
    TestProc dialog;
    EXPECT_EQ(loadgen(dialog, {"-n", "6", "-c", "2", "-t", "1", "--timeout", "5s", "--dialog",
                               dir.path("ehlo-quit.dialog"), "--json", "-", target(port)}),
              0)
        << dialog.err();
    EXPECT_EQ(json_number(dialog.out(), {"greetings"}), 6) << dialog.out();
    for (const char *phase : {"expect1", "expect2", "expect3"})
        EXPECT_EQ(json_number(dialog.out(), {"latency_us", phase, "count"}), 6) << phase;
    EXPECT_EQ(json_number(dialog.out(), {"replies", "expect3: 221 2.0.0 Bye\\\\r\\\\n"}), 6);
    // Everything written at once: Postfix answers 554 (instead of the banner, or after it).
    TestProc blob;
    EXPECT_EQ(loadgen(blob, {"-n", "6", "-c", "2", "-t", "1", "--timeout", "5s", "--dialog",
                             dir.path("blob.dialog"), "--json", "-", target(port)}),
              1);
    EXPECT_EQ(json_number(blob.out(), {"errors", "bad_greeting"}), 6) << blob.out();
    EXPECT_NE(blob.err().find(": 554 5.5.0 Error: SMTP protocol synchronization\\r\\n"),
              std::string::npos)
        << blob.err();
    TestProc stop;
    EXPECT_EQ(run_command(stop, {"/usr/sbin/postfix", "-c", dir.dir(), "stop"}), 0) << stop.err();
    // master ends on its SIGTERM: 143 through start-fg's shell.
    int status = postfix.wait_exit(10000);
    EXPECT_TRUE(status == 0 || status == 128 + SIGTERM) << status << postfix.err();
}
