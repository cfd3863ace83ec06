// balancer_testutil.h -- what the tests with a real balancer in front share: finding HAProxy
// and nginx, a port for them, the shipped configs in deploy/ filled in, HAProxy's admin socket.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "testproc.h"

// The tool's path, or "" (then the test skips, but fails under CI: a fresh machine's
// tools/test installs it, so missing there is a failure).
inline std::string find_tool(const std::string &name)
{
    for (const char *dir : {"/usr/sbin/", "/usr/bin/", "/usr/local/sbin/", "/usr/local/bin/"}) {
        std::string path = dir + name;
        if (access(path.c_str(), X_OK) == 0)
            return path;
    }
    return "";
}

inline bool in_ci()
{
    const char *ci = getenv("CI");
    return ci && std::string(ci) == "true";
}

// A port below 32768 on 127.0.0.1 with nothing on it now (HAProxy and nginx take a port
// number, not port 0).
inline int free_low_port()
{
    static unsigned calls; // each call starts elsewhere: ports asked for together differ
    for (unsigned attempt = calls++ * 7; attempt < calls * 7 + 200; attempt++) {
        int port = 20000 + (int)(((unsigned)getpid() * 7919u + attempt * 104729u) % 12000u);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa = {};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0;
        close(fd);
        if (ok)
            return port;
    }
    return -1;
}

// The shipped file deploy/REL with every @NAME@ replaced, written to out.
inline bool fill_template(const std::string &rel, const std::map<std::string, std::string> &fields,
                   const std::string &out)
{
    std::ifstream in(std::string(GREETER_SOURCE_DIR) + "/deploy/" + rel);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    if (s.empty())
        return false;
    for (const auto &[name, value] : fields)
        for (size_t at; (at = s.find("@" + name + "@")) != std::string::npos;)
            s.replace(at, name.size() + 2, value);
    if (std::regex_search(s, std::regex("@[A-Z0-9_]+@")))
        return false; // a field left unfilled: the balancer would fail less clearly
    std::ofstream(out) << s;
    return true;
}

// Sends one command line to HAProxy's admin socket; its answer ("" on failure).
inline std::string haproxy_command(const std::string &socket_path, const std::string &command)
{
    int fd = connect_unix(socket_path);
    if (fd < 0)
        return "";
    std::string line = command + "\n";
    (void)!write(fd, line.data(), line.size());
    return read_to_eof(fd, 5000);
}

// "show stat" on HAProxy's admin socket: the CSV text, "" on failure.
inline std::string haproxy_stat(const std::string &socket_path)
{
    return haproxy_command(socket_path, "show stat");
}

// Greeted lines of a full access log ("TIME PEER OUTCOME DURATION") whose peer's host is host.
inline long greeted_lines_from(const std::string &log, const std::string &host)
{
    long n = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);)
        if (line.find(" " + host + ":") != std::string::npos && line.find(" greeted ") != std::string::npos)
            n++;
    return n;
}
