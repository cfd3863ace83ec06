// test_cidr.cc -- address blocks: parsing, matching, IPv4-mapped peers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "cidr.h"

namespace {

struct sockaddr_storage ip(const char *text)
{
    struct sockaddr_storage ss = {};
    auto *s4 = reinterpret_cast<sockaddr_in *>(&ss);
    auto *s6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    return ss;
}

bool in(const char *block, const char *addr)
{
    cidr_block b;
    char err[256];
    EXPECT_EQ(cidr_parse(block, &b, err, sizeof(err)), 0) << err;
    struct sockaddr_storage ss = ip(addr);
    return cidr_contains(&b, reinterpret_cast<sockaddr *>(&ss));
}

std::string parse_error(const char *block)
{
    cidr_block b;
    char err[256] = "";
    if (cidr_parse(block, &b, err, sizeof(err)) == 0)
        return "";
    return err;
}

TEST(Cidr, IPv4Blocks)
{
    EXPECT_TRUE(in("10.0.0.0/8", "10.255.1.2"));
    EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.1"));
    EXPECT_TRUE(in("127.0.0.2", "127.0.0.2"));
    EXPECT_FALSE(in("127.0.0.2", "127.0.0.1"));
    EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
    EXPECT_TRUE(in("192.168.4.0/22", "192.168.7.255"));
    EXPECT_FALSE(in("192.168.4.0/22", "192.168.8.0"));
}

TEST(Cidr, IPv6BlocksAndMappedPeers)
{
    EXPECT_TRUE(in("2001:db8::/32", "2001:db8:ffff::1"));
    EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
    EXPECT_TRUE(in("::1", "::1"));
    EXPECT_FALSE(in("::1/128", "::2"));
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; IPv4 rules still apply.
    EXPECT_TRUE(in("127.0.0.0/8", "::ffff:127.0.0.1"));
    EXPECT_FALSE(in("10.0.0.0/8", "::ffff:127.0.0.1"));
    EXPECT_FALSE(in("127.0.0.0/8", "::1"));
}

TEST(Cidr, BadBlocksSayWhy)
{
    EXPECT_NE(parse_error("10.0.0.1/8").find("bits set beyond /8"), std::string::npos);
    EXPECT_NE(parse_error("10.0.0.0/33").find("prefix must be 0 to 32"), std::string::npos);
    EXPECT_NE(parse_error("::/129").find("prefix must be 0 to 128"), std::string::npos);
    EXPECT_NE(parse_error("10.0.0.0/").find("prefix"), std::string::npos);
    EXPECT_NE(parse_error("10.0.0.0/-1").find("prefix"), std::string::npos);
    EXPECT_NE(parse_error("10.0.0.0/8x").find("prefix"), std::string::npos);
    EXPECT_NE(parse_error("example.org/8").find("not an IPv4 or IPv6 address"), std::string::npos);
    EXPECT_NE(parse_error("").find("expected ADDRESS/PREFIX"), std::string::npos);
    EXPECT_NE(parse_error(std::string(300, '1').c_str()).find("expected"), std::string::npos);
}

TEST(Cidr, UnixPeersMatchNothing)
{
    cidr_block b;
    char err[64];
    ASSERT_EQ(cidr_parse("0.0.0.0/0", &b, err, sizeof(err)), 0);
    struct sockaddr sa = {};
    sa.sa_family = AF_UNIX;
    EXPECT_FALSE(cidr_contains(&b, &sa));
}

} // namespace
