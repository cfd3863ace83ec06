// upgrade_testutil.h -- what the upgrade tests share: greeter-server upgraded with SIGUSR2 again
// and again under loadgen load, and the counts of every process and of loadgen read back.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testproc.h"

// Sums "key=N" over every summary line in text.
inline long sum_field(const std::string &text, const std::string &key)
{
    long total = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("summary:", 0) == 0)
            total += summary_field(line, key);
    return total;
}

// loadgen's --json result: its greetings and its errors' total (and the connections still
// open at its end, when unfinished is given); false when one is missing.
inline bool loadgen_counts(const std::string &json, long *greetings, long *errors,
                           long *unfinished = nullptr)
{
    std::smatch m;
    if (!std::regex_search(json, m, std::regex("\"greetings\": *([0-9]+)")))
        return false;
    *greetings = std::stol(m[1]);
    if (!std::regex_search(json, m, std::regex("\"total\": *([0-9]+)")))
        return false;
    *errors = std::stol(m[1]);
    if (unfinished && !std::regex_search(json, m, std::regex("\"unfinished\": *([0-9]+)")))
        return false;
    if (unfinished)
        *unfinished = std::stol(m[1]);
    return true;
}

// How many times what occurs in text.
inline size_t count_of(const std::string &text, const std::string &what)
{
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        n++;
    return n;
}

// The successors the upgrades started, in the order they became ready (from the server's log).
inline std::vector<pid_t> successors(const std::string &err)
{
    std::vector<pid_t> pids;
    std::regex re("upgrade: process ([0-9]+) is ready");
    for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator(); ++it)
        pids.push_back((pid_t)std::stol((*it)[1]));
    return pids;
}

// What one upgrade_under_load saw.
struct UpgradeRun {
    long greetings = -1, errors = -1, unfinished = -1; // loadgen's
    std::string load_out;             // loadgen's JSON
    std::string server_out;           // every process's summary line
    std::string server_err;           // their logs
};

// Starts greeter-server with server_args (not --quiet: the log names each successor) and
// loadgen with load_args (no program name, no target) against it, then upgrades `upgrades`
// times: SIGUSR2 to the newest process every pause_ms, each time waiting for the old one's
// summary (it prints it once its successor is ready and it has drained). Stops the last
// process with SIGTERM once loadgen is done. A step that does not happen fails the test; no
// successor outlives the call.
inline void upgrade_under_load(const std::vector<std::string> &server_args,
                               std::vector<std::string> load_args, int upgrades, int pause_ms,
                               UpgradeRun *run)
{
    TestProc server;
    int port = start_server(server, server_args, false);
    ASSERT_GT(port, 0) << server.err();
    TestProc load;
    load_args.insert(load_args.begin(), GREETER_LOADGEN_BIN);
    load_args.insert(load_args.end(), {"--json", "-", "127.0.0.1:" + std::to_string(port)});
    ASSERT_TRUE(load.start(load_args)) << load.error();
    pid_t current = server.pid();
    struct KillLeft { // never leak a successor, even when an assertion below returns early
        TestProc &server;
        ~KillLeft()
        {
            for (pid_t pid : successors(server.err()))
                kill(pid, SIGKILL); // after a clean run none is left
        }
    } kill_left{server};
    for (int i = 0; i < upgrades; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        kill(current, SIGUSR2);
        ASSERT_NE(server.wait_for_line("summary:", 10000), "") << server.err();
        std::vector<pid_t> pids = successors(server.err());
        ASSERT_EQ(pids.size(), (size_t)i + 1) << server.err();
        current = pids.back();
    }
    EXPECT_EQ(load.wait_exit(20000), 0) << load.err();
    kill(current, SIGTERM);
    EXPECT_NE(server.wait_for_line("summary:", 10000), "");
    server.wait_exit(5000); // the first process: every later one is not its child
    run->load_out = load.out();
    run->server_out = server.out();
    run->server_err = server.err();
    EXPECT_TRUE(loadgen_counts(load.out(), &run->greetings, &run->errors, &run->unfinished))
        << load.out();
}
