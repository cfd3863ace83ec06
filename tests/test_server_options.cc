// test_server_options.cc -- greeter-server's option parser in-process: every refusal names the
// problem, options that do not apply to a model are refused; one run of the binary checks
// that a usage error becomes exit 2 with a pointer to --help.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_options_probe.h"
#include "testproc.h"

namespace {

// Parses args (after the program name) for a 2-core machine; "" when accepted, else the error.
std::string parse_error(std::vector<std::string> args)
{
    args.insert(args.begin(), "greeter-server");
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(&a[0]);
    argv.push_back(nullptr);
    char err[512] = "";
    if (server_options_probe((int)args.size(), argv.data(), 2, err, sizeof(err)) == 0)
        return "";
    return err[0] ? err : "(refused without a message)";
}

struct BadUsage {
    std::vector<std::string> args;
    std::string message;
};

TEST(ServerOptions, BadOptionsNameTheProblem)
{
    const std::vector<BadUsage> cases = {
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"-w", "0"}, "--workers: 0 is out of range"},
        {{"-w", "ten"}, "--workers: 'ten' is not a whole number"},
        {{"--overload", "drop"}, "--overload: 'drop' is not block or reject"},
        {{"--io-timeout", "soon"}, "--io-timeout: 'soon' is not a duration"},
        {{"-m", "magic"}, "--model: unknown model 'magic'"},
        {{"--port"}, "needs a value"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"--greeting", ""}, "cannot be empty"},
        {{"--allow", "10.0.0.1/8"}, "bits set beyond /8"},
        {{"--deny", "nonsense"}, "not an IPv4 or IPv6 address (--deny)"},
        {{"--max-conns", "0"}, "--max-conns: 0 is out of range"},
        {{"--udp", "--max-per-ip", "3"}, "do not apply with --udp"},
        {{"--group", "nogroup"}, "--group goes with --user"},
        {{"-m", "fork", "--udp"}, "--udp does not apply to the fork model"},
        {{"--unix-mode", "0600"}, "--unix-mode needs --unix PATH"},
        {{"--unix", "/x", "--unix-mode", "999"}, "is not an octal mode"},
        {{"--udp", "-q", "5"}, "do not apply with --udp"},
        {{"--udp", "--always-hand-off"}, "do not apply with --udp"},
        {{"--unix", "/x", "--ipv6-only"}, "--ipv6-only does not apply to a UNIX socket"},
    };
    for (const auto &c : cases) {
        std::string err = parse_error(c.args);
        EXPECT_NE(err.find(c.message), std::string::npos) << c.args[0] << ": " << err;
    }
}

TEST(ServerOptions, OptionsThatDoNotApplyToTheModelAreRefused)
{
    const std::vector<std::vector<std::string>> refused = {
        {"-m", "fork", "-q", "10"},          {"-m", "fork", "-w", "4"},
        {"-m", "iterative", "-w", "4"},      {"-m", "event", "--overload", "reject"},
        {"-m", "prefork", "--max-threads", "5"}, {"-m", "pool", "--max-children", "5"},
        {"-m", "thread", "--queue", "5"},      {"-m", "event", "--always-hand-off"},
    };
    for (const auto &args : refused) {
        std::string err = parse_error(args);
        EXPECT_NE(err.find("does not apply to the " + args[1] + " model"), std::string::npos)
            << args[1] << " " << args[2] << ": " << err;
    }
    // ... while each is accepted where it applies.
    EXPECT_EQ(parse_error({"-m", "pool", "-q", "10", "-w", "4", "--always-hand-off"}), "");
    EXPECT_EQ(parse_error({"-m", "fork", "--max-children", "5"}), "");
    EXPECT_EQ(parse_error({"-m", "thread", "--max-threads", "5"}), "");
}

TEST(ServerOptions, UsageErrorExitsTwoAndPointsToHelp)
{
    TestProc p;
    EXPECT_EQ(run_command(p, {GREETER_SERVER_BIN, "--bogus"}), 2);
    EXPECT_NE(p.err().find("unknown option '--bogus'"), std::string::npos) << p.err();
    EXPECT_NE(p.err().find("--help"), std::string::npos) << p.err();
}

} // namespace
