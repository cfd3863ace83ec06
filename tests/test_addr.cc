// test_addr.cc -- the tutorial's host and port rules, address splitting and formatting.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "addr.h"

namespace {

// Resolves and returns the first answer as HOST:PORT, or "ERR: message".
std::string first(const char *host, const char *port, int family = AF_UNSPEC, int passive = 1)
{
    addr_hints hints = {family, SOCK_STREAM, passive};
    struct addrinfo *list = nullptr;
    char err[256] = "";
    if (addr_resolve(host, port, &hints, &list, err, sizeof(err)) < 0)
        return std::string("ERR: ") + err;
    char buf[ADDR_STRLEN];
    addr_format_hostport(list->ai_addr, list->ai_addrlen, buf, sizeof(buf));
    freeaddrinfo(list);
    return buf;
}

TEST(AddrResolve, DottedQuadAndNumericPort)
{
    EXPECT_EQ(first("127.0.0.1", "12345"), "127.0.0.1:12345");
}

TEST(AddrResolve, EmptyHostIsAnyAddress)
{
    EXPECT_EQ(first("", "80"), "0.0.0.0:80");
    EXPECT_EQ(first(nullptr, "80"), "0.0.0.0:80");
    EXPECT_EQ(first("", "80", AF_INET6), "[::]:80");
}

TEST(AddrResolve, BroadcastKeyword)
{
    EXPECT_EQ(first("<broadcast>", "9"), "255.255.255.255:9");
}

TEST(AddrResolve, IntegerIsBinaryIPv4Address)
{
    EXPECT_EQ(first("2130706433", "1"), "127.0.0.1:1"); // 0x7f000001
    EXPECT_EQ(first("0", "1"), "0.0.0.0:1");
    EXPECT_EQ(first("4294967295", "1"), "255.255.255.255:1");
    EXPECT_EQ(first("4294967296", "1"), "ERR: integer address 4294967296 out of range (0-4294967295)");
}

TEST(AddrResolve, IPv6LiteralsWithAndWithoutBrackets)
{
    EXPECT_EQ(first("::1", "12345"), "[::1]:12345");
    EXPECT_EQ(first("[::1]", "12345"), "[::1]:12345");
    EXPECT_EQ(first("[::1", "1").rfind("ERR: bad IPv6 address", 0), 0u);
}

TEST(AddrResolve, HostNameLocalhostPrefersIPv4ForListeners)
{
    EXPECT_EQ(first("localhost", "7"), "127.0.0.1:7");
}

TEST(AddrResolve, ServiceNamesAndNumericStrings)
{
    EXPECT_EQ(first("127.0.0.1", "http"), "127.0.0.1:80");
    EXPECT_EQ(first("127.0.0.1", "www"), "127.0.0.1:80");
    EXPECT_EQ(first("127.0.0.1", "0"), "127.0.0.1:0");
    EXPECT_EQ(first("127.0.0.1", ""), "127.0.0.1:0");
}

TEST(AddrResolve, BadPortsSayWhatIsWrong)
{
    EXPECT_EQ(first("127.0.0.1", "wwx"),
              "ERR: unknown service 'wwx' (give a port number or a name from /etc/services)");
    EXPECT_EQ(first("127.0.0.1", "70000"), "ERR: port 70000 out of range (0-65535)");
    EXPECT_EQ(first("127.0.0.1", "99999999999999999999"),
              "ERR: port 99999999999999999999 out of range (0-65535)");
}

TEST(AddrResolve, UnknownHostNamesTheHost)
{
    // An empty label: the resolver refuses the name before any query leaves the machine.
    std::string got = first("no-such-host..invalid", "80");
    EXPECT_EQ(got.rfind("ERR: unknown host 'no-such-host..invalid'", 0), 0u) << got;
}

TEST(AddrResolve, FamilyMismatchIsAnError)
{
    std::string got = first("<broadcast>", "1", AF_INET6);
    EXPECT_NE(got.find("IPv4 but IPv6"), std::string::npos) << got;
}

struct Split {
    std::string host, port, err;
};

Split split(const char *spec)
{
    char host[ADDR_HOSTLEN], port[ADDR_PORTLEN], err[256] = "";
    if (addr_split(spec, host, sizeof(host), port, sizeof(port), err, sizeof(err)) < 0)
        return {"", "", err};
    return {host, port, ""};
}

TEST(AddrSplit, Forms)
{
    Split s = split("localhost:12345");
    EXPECT_EQ(s.host, "localhost");
    EXPECT_EQ(s.port, "12345");
    s = split("[::1]:80");
    EXPECT_EQ(s.host, "::1");
    EXPECT_EQ(s.port, "80");
    s = split("[::1]");
    EXPECT_EQ(s.host, "::1");
    EXPECT_EQ(s.port, "");
    s = split("::1");
    EXPECT_EQ(s.host, "::1");
    EXPECT_EQ(s.port, "");
    s = split("example.org");
    EXPECT_EQ(s.host, "example.org");
    EXPECT_EQ(s.port, "");
    s = split(":http");
    EXPECT_EQ(s.host, "");
    EXPECT_EQ(s.port, "http");
}

TEST(AddrSplit, BadForms)
{
    EXPECT_NE(split("[::1").err.find("missing ']'"), std::string::npos);
    EXPECT_NE(split("[::1]x").err.find("expected ':PORT'"), std::string::npos);
    EXPECT_NE(split("host:").err.find("empty port"), std::string::npos);
    std::string longhost(300, 'a');
    EXPECT_NE(split(longhost.c_str()).err.find("too long"), std::string::npos);
}

TEST(AddrFormat, TutorialForms)
{
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(48437);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    char buf[ADDR_STRLEN];
    addr_format_tutorial(reinterpret_cast<sockaddr *>(&sin), sizeof(sin), buf, sizeof(buf));
    EXPECT_STREQ(buf, "('127.0.0.1', 48437)");

    struct sockaddr_in6 sin6 = {};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(48437);
    inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
    addr_format_tutorial(reinterpret_cast<sockaddr *>(&sin6), sizeof(sin6), buf, sizeof(buf));
    EXPECT_STREQ(buf, "('::1', 48437, 0, 0)");
    addr_format_hostport(reinterpret_cast<sockaddr *>(&sin6), sizeof(sin6), buf, sizeof(buf));
    EXPECT_STREQ(buf, "[::1]:48437");

    struct sockaddr_un sun = {};
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, "/tmp/g.sock");
    addr_format_tutorial(reinterpret_cast<sockaddr *>(&sun), sizeof(sun), buf, sizeof(buf));
    EXPECT_STREQ(buf, "'/tmp/g.sock'");
}

TEST(AddrFormat, TruncatesSafely)
{
    struct sockaddr_in sin = {};
    sin.sin_family = AF_INET;
    char buf[8];
    addr_format_tutorial(reinterpret_cast<sockaddr *>(&sin), sizeof(sin), buf, sizeof(buf));
    EXPECT_EQ(strlen(buf), 7u);
}

} // namespace
