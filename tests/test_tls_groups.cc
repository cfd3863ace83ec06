// test_tls_groups.cc -- what the TLS server offers, seen from outside: the key exchange groups
// (--tls-groups) and the protocols through openssl s_client, client-initiated renegotiation, and
// testssl.sh's verdict on the pool.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "testproc.h"
#include "tls.h"

namespace {

// A tool the test needs: its path, or "" after failing (CI) or skipping (elsewhere) the test.
std::string need_tool(const std::vector<std::string> &names)
{
    for (const std::string &name : names)
        for (const char *dir : {"/usr/bin/", "/usr/local/bin/", "/bin/"})
            if (access((dir + name).c_str(), X_OK) == 0)
                return dir + name;
    return "";
}

#define REQUIRE_TOOL(var, ...)                                                                 \
    std::string var = need_tool({__VA_ARGS__});                                                \
    if (var.empty()) {                                                                         \
        const char *ci = getenv("CI");                                                         \
        if (ci && std::string(ci) == "true")                                                   \
            FAIL() << #var << " is not installed (tools/lib.sh GREETER_TEST_PACKAGES)";        \
        GTEST_SKIP() << #var << " is not installed";                                           \
    }

class TlsOffer : public ::testing::Test {
  protected:
    void SetUp() override
    {
        if (!tls_available())
            GTEST_SKIP() << "built without OpenSSL";
    }

    int start(TestProc &server, const std::string &model, std::vector<std::string> extra = {})
    {
        std::vector<std::string> args = {"-m", model, "--tls-cert", test_cert("server.pem"),
                                         "--tls-key", test_cert("server.key")};
        args.insert(args.end(), extra.begin(), extra.end());
        return start_server(server, args);
    }

    // openssl s_client to the server offering only `groups` (and TLS `version`); its exit
    // status, its output in c.
    int s_client(TestProc &c, const std::string &openssl, int port, const std::string &groups,
                 const std::string &version)
    {
        return run_command(c, {openssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                               "-" + version, "-groups", groups, "-CAfile", test_cert("ca.pem")},
                           20000);
    }
};

// X25519, P-256 and P-384 by default; a client offering only finite-field groups (or only a
// curve left out) gets a handshake failure. Before, ffdhe2048 was accepted (and ffdhe8192
// cost the server ~116 ms of CPU per handshake).
TEST_F(TlsOffer, DefaultGroupsAreEllipticCurvesOnly)
{
    REQUIRE_TOOL(openssl, "openssl");
    for (const char *model : {"pool", "event"}) {
        TestProc server;
        int port = start(server, model);
        ASSERT_GT(port, 0) << server.err();
        std::map<std::string, bool> tls13 = {{"X25519", true}, {"P-256", true}, {"P-384", true},
                                             {"P-521", false}, {"ffdhe2048", false},
                                             {"ffdhe8192", false}};
        for (const auto &[group, ok] : tls13) {
            TestProc c;
            EXPECT_EQ(s_client(c, openssl, port, group, "tls1_3") == 0, ok)
                << model << " " << group << ": " << c.out();
            if (ok) {
                EXPECT_NE(c.out().find("Verify return code: 0 (ok)"), std::string::npos) << c.out();
            }
        }
        // TLS 1.2 with ECDHE suites only: nothing in common with a finite-field-only client.
        TestProc c12;
        EXPECT_NE(s_client(c12, openssl, port, "ffdhe2048:ffdhe3072", "tls1_2"), 0) << c12.out();
        std::string out = stop_server(server);
        EXPECT_EQ(summary_field(out, "greeted"), 3) << model << ": " << out;
        EXPECT_EQ(summary_field(out, "tls_failed"), 4) << model << ": " << out;
    }
}

TEST_F(TlsOffer, TlsGroupsChangesTheOffer)
{
    REQUIRE_TOOL(openssl, "openssl");
    TestProc server;
    int port = start(server, "event", {"--tls-groups", "P-521:X448"});
    ASSERT_GT(port, 0) << server.err();
    TestProc p521, x25519;
    EXPECT_EQ(s_client(p521, openssl, port, "P-521", "tls1_3"), 0) << p521.out();
    EXPECT_NE(s_client(x25519, openssl, port, "X25519", "tls1_3"), 0) << x25519.out();
    stop_server(server);
}

// Checked at start, as a usage error that names the group and why.
TEST_F(TlsOffer, BadOrFiniteFieldGroupsAreRefusedAtStart)
{
    for (const auto &[groups, why] : std::vector<std::pair<std::string, std::string>>{
             {"X25519:ffdhe8192", "'ffdhe8192' is refused: a finite-field key exchange"},
             {"X25519:P-999", "'P-999' is not a group OpenSSL knows"},
             {"", "'' is not a group name"}}) {
        TestProc server;
        EXPECT_EQ(run_command(server, {GREETER_SERVER_BIN, "--tls-cert", test_cert("server.pem"),
                                       "--tls-key", test_cert("server.key"), "--tls-groups",
                                       groups}),
                  2);
        EXPECT_NE(server.err().find("--tls-groups: " + why), std::string::npos) << server.err();
    }
}

// What testssl.sh checks below on the pool, checked on each model with openssl s_client: the
// protocols served and a client's renegotiation refused. (testssl.sh costs 25-40 s of CPU per
// run; what else it checks is the OpenSSL set-up that every model shares.)
class TlsOfferEachModel : public TlsOffer, public ::testing::WithParamInterface<std::string> {};

TEST_P(TlsOfferEachModel, OnlyTls12AndTls13AreServed)
{
    REQUIRE_TOOL(openssl, "openssl");
    TestProc server;
    int port = start(server, GetParam());
    ASSERT_GT(port, 0) << server.err();
    for (const auto &[version, served] : std::vector<std::pair<std::string, bool>>{
             {"tls1", false}, {"tls1_1", false}, {"tls1_2", true}, {"tls1_3", true}}) {
        TestProc c;
        // SECLEVEL=0 lets this client offer the old versions at all: the refusal is the server's.
        int rc = run_command(c, {openssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                 "-" + version, "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile",
                                 test_cert("ca.pem")},
                             20000);
        if (served) {
            EXPECT_EQ(rc, 0) << version << ": " << c.out() << c.err();
            EXPECT_NE(c.out().find("Verify return code: 0 (ok)"), std::string::npos) << c.out();
        } else {
            EXPECT_NE(rc, 0) << version << ": " << c.out();
            EXPECT_NE(c.err().find("alert protocol version"), std::string::npos)
                << version << ": " << c.err();
        }
    }
    stop_server(server);
}

// The server never renegotiates. Held back by --work-us until openssl s_client has sent its
// renegotiation request ("R"), it refuses it; without the delay the greeting and close_notify
// come first and s_client ends before it sends R, which testssl.sh reads as "VULNERABLE"
// (below).
TEST_P(TlsOfferEachModel, ClientInitiatedRenegotiationIsRefused)
{
    REQUIRE_TOOL(openssl, "openssl");
    TestProc server, c;
    int port = start(server, GetParam(), {"--work-us", "1000000"});
    ASSERT_GT(port, 0) << server.err();
    std::string cmd = "(echo R; sleep 2) | " + openssl + " s_client -tls1_2 -connect 127.0.0.1:" +
                      std::to_string(port) + " -CAfile " + test_cert("ca.pem");
    EXPECT_NE(run_command(c, {"/bin/sh", "-c", cmd}, 20000), 0) << c.out();
    EXPECT_NE((c.out() + c.err()).find("RENEGOTIATING"), std::string::npos) << c.out() << c.err();
    EXPECT_EQ(c.out().find(kGreeting), std::string::npos) << c.out();
    stop_server(server);
}

INSTANTIATE_TEST_SUITE_P(Models, TlsOfferEachModel, ::testing::Values("pool", "event"),
                         [](const auto &info) { return info.param; });

// The findings testssl.sh reports, one "id<TAB>severity<TAB>finding" line each.
std::vector<std::vector<std::string>> findings(const std::string &json_file)
{
    TestProc py;
    run_command(py, {need_tool({"python3"}), "-c",
                     "import json,sys\n"
                     "for f in json.load(open(sys.argv[1])):\n"
                     "    print(f['id'], f['severity'], f['finding'].replace('\\t', ' '), sep='\\t')\n",
                     json_file});
    std::vector<std::vector<std::string>> out;
    std::istringstream lines(py.out());
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> fields;
        std::istringstream parts(line);
        for (std::string f; std::getline(parts, f, '\t');)
            fields.push_back(f);
        if (fields.size() == 3)
            out.push_back(fields);
    }
    return out;
}

class Testssl : public ::testing::TestWithParam<std::string> {};

// testssl.sh on the chosen checks (protocols -p, forward secrecy and groups -f, and the
// vulnerabilities that apply to a TLS 1.2/1.3 server: renegotiation -R, Heartbleed -H, CCS
// injection -I, CRIME -C, Logjam -J), trusting the test CA (--add-ca), on the pool (the other
// models share its OpenSSL set-up; TlsOfferEachModel checks what a model could change). Left
// out: -S (server defaults: the certificate's findings, 30-day validity and no CRL/OCSP, are the
// test CA's, and it costs 80 s), cipher lists per protocol (-E, -f shows the suites that
// matter), and checks for what the server cannot do (SSLv2/3 attacks, RC4, export ciphers: -p
// shows no such protocol, -f no such suite). Allowed: engine_problem (the local openssl has no
// GOST engine) and secure_client_renego: s_client gets the greeting and close_notify before it
// can send R and exits 0, which testssl.sh takes for a renegotiation that succeeded
// (ClientInitiatedRenegotiationIsRefused shows the server refusing one).
TEST_P(Testssl, NoFindingBeyondTheTestCa)
{
    if (!tls_available())
        GTEST_SKIP() << "built without OpenSSL";
    REQUIRE_TOOL(testssl, "testssl", "testssl.sh");
    TempDir tmp;
    TestProc server, run;
    std::vector<std::string> args = {"-m", GetParam(), "--tls-cert", test_cert("server.pem"),
                                     "--tls-key", test_cert("server.key")};
    int port = start_server(server, args);
    ASSERT_GT(port, 0) << server.err();
    std::string json = tmp.path("testssl.json");
    // NXCONNECT: testssl.sh probes its openssl's options with `s_client -connect invalid.`,
    // a DNS query to the machine's resolver each time; this keeps every probe on loopback.
    std::vector<std::string> argv = {"/usr/bin/env", "NXCONNECT=127.0.0.1:0", testssl, "--quiet",
                                     "--color", "0", "--warnings", "off",
                                     "--nodns", "none", "--add-ca", test_cert("ca.pem"),
                                     "--jsonfile", json, "-p", "-R", "-f", "-H", "-I", "-C", "-J"};
    argv.push_back("127.0.0.1:" + std::to_string(port));
    auto start = std::chrono::steady_clock::now();
    run_command(run, argv, 300000);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "testssl.sh took " << took << " s" << std::endl;
    std::map<std::string, std::string> by_id;
    for (const auto &f : findings(json)) {
        by_id[f[0]] = f[2];
        const std::string &severity = f[1];
        if (severity == "OK" || severity == "INFO" || severity == "DEBUG")
            continue;
        if (f[0] == "engine_problem" || f[0] == "secure_client_renego")
            continue;
        ADD_FAILURE() << f[0] << " " << severity << ": " << f[2];
    }
    ASSERT_FALSE(by_id.empty()) << run.out() << run.err();
    EXPECT_EQ(by_id["PFS_ECDHE_curves"], "prime256v1 secp384r1 X25519");
    EXPECT_EQ(by_id.count("DH_groups"), 0u) << by_id["DH_groups"];
    for (const char *old : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"})
        EXPECT_EQ(by_id[old].rfind("not offered", 0), 0u) << old << ": " << by_id[old];
    EXPECT_EQ(by_id["TLS1_2"], "offered");
    EXPECT_EQ(by_id["TLS1_3"].rfind("offered", 0), 0u) << by_id["TLS1_3"];
    EXPECT_FALSE(by_id["secure_renego"].empty()) << "renegotiation not checked";
    for (const char *vuln : {"heartbleed", "CCS", "CRIME_TLS", "LOGJAM"})
        EXPECT_FALSE(by_id[vuln].empty()) << vuln << " not checked";
    stop_server(server);
}

INSTANTIATE_TEST_SUITE_P(Models, Testssl, ::testing::Values("pool"),
                         [](const auto &info) { return info.param; });

} // namespace
