// test_proxy_header.cc -- the PROXY protocol header parser: v1, v2, every outcome, input cut
// anywhere, and no read past the bytes given.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "proxy_header.h"

namespace {

int parse(const std::string &s, proxy_header *h)
{
    return proxy_header_parse(reinterpret_cast<const unsigned char *>(s.data()), s.size(), h);
}

std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string &block)
{
    std::string s("\r\n\r\n\0\r\nQUIT\n", 12);
    s += static_cast<char>(ver_cmd);
    s += static_cast<char>(fam);
    s += static_cast<char>(block.size() >> 8);
    s += static_cast<char>(block.size() & 0xff);
    return s + block;
}

std::string v2_inet_block(const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
    unsigned char b[12];
    inet_pton(AF_INET, src, b);
    inet_pton(AF_INET, dst, b + 4);
    uint16_t sp = htons(sport), dp = htons(dport);
    memcpy(b + 8, &sp, 2);
    memcpy(b + 10, &dp, 2);
    return std::string(reinterpret_cast<char *>(b), sizeof(b));
}

std::string src_text(const proxy_header &h)
{
    char text[INET6_ADDRSTRLEN] = "";
    if (h.src.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(&h.src)->sin_addr, text, sizeof(text));
    else if (h.src.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(&h.src)->sin6_addr, text, sizeof(text));
    return text;
}

uint16_t src_port(const proxy_header &h)
{
    return ntohs(h.src.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in *>(&h.src)->sin_port
                                            : reinterpret_cast<const sockaddr_in6 *>(&h.src)->sin6_port);
}

} // namespace

TEST(ProxyHeader, V1Tcp4GivesTheClientsAddressAndItsLength)
{
    proxy_header h;
    std::string line = "PROXY TCP4 192.0.2.7 198.18.0.1 56324 443\r\n";
    ASSERT_EQ(parse(line + "client bytes", &h), static_cast<int>(line.size()));
    EXPECT_EQ(h.version, 1);
    EXPECT_EQ(h.local, 0);
    EXPECT_EQ(h.addr_len, sizeof(sockaddr_in));
    EXPECT_EQ(src_text(h), "192.0.2.7");
    EXPECT_EQ(src_port(h), 56324);
    EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in *>(&h.dst)->sin_port), 443);
}

TEST(ProxyHeader, V1Tcp6AtItsLongest)
{
    proxy_header h;
    std::string line = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    ASSERT_EQ(line.size(), static_cast<size_t>(PROXY_HEADER_V1_MAX) - 3); // UNKNOWN's room left
    ASSERT_EQ(parse(line, &h), static_cast<int>(line.size()));
    EXPECT_EQ(h.addr_len, sizeof(sockaddr_in6));
    EXPECT_EQ(src_text(h), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(src_port(h), 65535);
}

TEST(ProxyHeader, V1UnknownKeepsTheConnectionsOwnAddresses)
{
    proxy_header h;
    EXPECT_EQ(parse("PROXY UNKNOWN\r\n", &h), 15);
    EXPECT_EQ(h.local, 1);
    EXPECT_EQ(h.addr_len, 0u);
    std::string with_rest = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
    EXPECT_EQ(parse(with_rest, &h), static_cast<int>(with_rest.size()));
    EXPECT_EQ(h.local, 1);
}

TEST(ProxyHeader, V1MalformedLinesAreInvalid)
{
    proxy_header h;
    const char *bad[] = {
        "PROXY TCP4 192.0.2.7 198.18.0.1 56324 443\n",         // bare LF
        "PROXY TCP4 192.0.2.7 198.18.0.1 56324 443\rX",        // CR without LF
        "PROXY TCP4 192.0.2.7  198.18.0.1 56324 443\r\n",      // two spaces
        "PROXY TCP4 192.0.2.7 198.18.0.1 56324 443 \r\n",      // trailing space
        "PROXY TCP4 192.0.2.7 198.18.0.1 56324\r\n",           // a field missing
        "PROXY TCP4 192.0.2.7 198.18.0.1 65536 443\r\n",       // port out of range
        "PROXY TCP4 192.0.2.7 198.18.0.1 -1 443\r\n",          // not a number
        "PROXY TCP4 ::1 ::1 1 2\r\n",                          // family mismatch
        "PROXY TCP6 192.0.2.7 198.18.0.1 1 2\r\n",             // family mismatch
        "PROXY TCP4 192.0.2.300 198.18.0.1 1 2\r\n",           // not an address
        "PROXY UDP4 192.0.2.7 198.18.0.1 1 2\r\n",             // unknown protocol
        "PROXY UNKNOWNX\r\n",
        "PROXY \r\n",
        "proxy TCP4 192.0.2.7 198.18.0.1 1 2\r\n",             // case matters
        "GET / HTTP/1.0\r\n",                                  // not a balancer at all
        "\x16\x03\x01\x02\x00",                                 // a TLS ClientHello
    };
    for (const char *b : bad)
        EXPECT_EQ(parse(b, &h), PROXY_HEADER_INVALID) << b;
}

TEST(ProxyHeader, V1WithoutCrlfWithin107BytesIsInvalid)
{
    proxy_header h;
    std::string line = "PROXY UNKNOWN " + std::string(PROXY_HEADER_V1_MAX - 14, 'x');
    EXPECT_EQ(parse(line.substr(0, PROXY_HEADER_V1_MAX - 1), &h), PROXY_HEADER_INCOMPLETE);
    EXPECT_EQ(parse(line, &h), PROXY_HEADER_INVALID);
    std::string just_fits = "PROXY UNKNOWN " + std::string(PROXY_HEADER_V1_MAX - 16, 'x') + "\r\n";
    ASSERT_EQ(just_fits.size(), static_cast<size_t>(PROXY_HEADER_V1_MAX));
    EXPECT_EQ(parse(just_fits, &h), PROXY_HEADER_V1_MAX);
}

TEST(ProxyHeader, V2ProxyInetAndTlvsSkipped)
{
    proxy_header h;
    std::string tlv("\x04\x00\x03" "abc", 6); // a PP2_TYPE_NOOP of 3 bytes
    std::string hdr = v2(0x21, 0x11, v2_inet_block("203.0.113.9", "198.18.0.1", 40000, 7000) + tlv);
    ASSERT_EQ(parse(hdr + "rest", &h), static_cast<int>(hdr.size()));
    EXPECT_EQ(h.version, 2);
    EXPECT_EQ(h.local, 0);
    EXPECT_EQ(src_text(h), "203.0.113.9");
    EXPECT_EQ(src_port(h), 40000);
}

TEST(ProxyHeader, V2ProxyInet6)
{
    proxy_header h;
    unsigned char block[36] = {0};
    inet_pton(AF_INET6, "2001:db8::42", block);
    inet_pton(AF_INET6, "::1", block + 16);
    block[32] = 0x12;
    block[33] = 0x34;
    std::string hdr = v2(0x21, 0x21, std::string(reinterpret_cast<char *>(block), 36));
    ASSERT_EQ(parse(hdr, &h), 52);
    EXPECT_EQ(src_text(h), "2001:db8::42");
    EXPECT_EQ(src_port(h), 0x1234);
}

TEST(ProxyHeader, V2LocalAndUnspecKeepTheConnectionsAddresses)
{
    proxy_header h;
    EXPECT_EQ(parse(v2(0x20, 0x00, ""), &h), 16); // a health check
    EXPECT_EQ(h.local, 1);
    EXPECT_EQ(h.version, 2);
    // LOCAL with an address block: the block is skipped, whatever it holds.
    EXPECT_EQ(parse(v2(0x20, 0x11, v2_inet_block("192.0.2.1", "192.0.2.2", 1, 2)), &h), 28);
    EXPECT_EQ(h.local, 1);
    EXPECT_EQ(parse(v2(0x21, 0x00, "xyz"), &h), 19);
    EXPECT_EQ(h.local, 1);
    EXPECT_EQ(parse(v2(0x21, 0x31, std::string(216, '\0')), &h), 232);
    EXPECT_EQ(h.local, 1);
}

TEST(ProxyHeader, V2MalformedHeadersAreInvalidAsEarlyAsPossible)
{
    proxy_header h;
    std::string block = v2_inet_block("192.0.2.1", "192.0.2.2", 1, 2);
    EXPECT_EQ(parse(v2(0x11, 0x11, block), &h), PROXY_HEADER_INVALID); // version 1 in binary
    EXPECT_EQ(parse(v2(0x22, 0x11, block), &h), PROXY_HEADER_INVALID); // unknown command
    EXPECT_EQ(parse(v2(0x21, 0x41, block), &h), PROXY_HEADER_INVALID); // unknown family
    EXPECT_EQ(parse(v2(0x21, 0x12, block), &h), PROXY_HEADER_INVALID); // a datagram flow
    EXPECT_EQ(parse(v2(0x21, 0x13, block), &h), PROXY_HEADER_INVALID); // unknown transport
    EXPECT_EQ(parse(v2(0x21, 0x11, block.substr(0, 11)), &h), PROXY_HEADER_INVALID); // too short
    EXPECT_EQ(parse(v2(0x21, 0x21, block), &h), PROXY_HEADER_INVALID); // IPv6 in 12 bytes
    // The 13th byte alone already rules it out.
    EXPECT_EQ(parse(v2(0x31, 0x11, block).substr(0, 13), &h), PROXY_HEADER_INVALID);
    EXPECT_EQ(parse(std::string("\r\n\r\n\0\r\nQUIX", 11), &h), PROXY_HEADER_INVALID);
}

TEST(ProxyHeader, ByteAtATimeIsIncompleteUntilTheLastByte)
{
    std::string headers[] = {
        "PROXY TCP4 192.0.2.7 198.18.0.1 56324 443\r\n",
        "PROXY UNKNOWN\r\n",
        v2(0x21, 0x11, v2_inet_block("192.0.2.1", "192.0.2.2", 1, 2) + std::string("\x04\x00\x01z", 4)),
        v2(0x20, 0x00, ""),
    };
    for (const std::string &hdr : headers) {
        proxy_header h;
        for (size_t n = 0; n < hdr.size(); n++)
            ASSERT_EQ(parse(hdr.substr(0, n), &h), PROXY_HEADER_INCOMPLETE) << n;
        EXPECT_EQ(parse(hdr, &h), static_cast<int>(hdr.size()));
    }
}

TEST(ProxyHeader, NoReadPastTheBytesGiven)
{
    // The input ends where an inaccessible page begins: reading one byte too far faults.
    long page = sysconf(_SC_PAGESIZE);
    void *map = mmap(nullptr, static_cast<size_t>(2 * page), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(map, MAP_FAILED);
    unsigned char *guard = static_cast<unsigned char *>(map) + page;
    ASSERT_EQ(mprotect(guard, static_cast<size_t>(page), PROT_NONE), 0);
    std::string inputs[] = {
        "PROXY TCP4 192.0.2.7 198.18.0.1 56324 443\r\n",
        "PROXY TCP6 ::1 ::1 1 2\r\n",
        "PROXY UNKNOWN\r\n",
        v2(0x21, 0x11, v2_inet_block("192.0.2.1", "192.0.2.2", 1, 2)),
        v2(0x21, 0x21, std::string(36, '\x01')),
    };
    proxy_header h;
    for (const std::string &in : inputs)
        for (size_t n = 0; n <= in.size(); n++) {
            unsigned char *at = guard - n;
            memcpy(at, in.data(), n);
            int rc = proxy_header_parse(at, n, &h);
            EXPECT_EQ(rc, n == in.size() ? static_cast<int>(n) : PROXY_HEADER_INCOMPLETE);
        }
    munmap(map, static_cast<size_t>(2 * page));
}

TEST(ProxyHeader, V1CrlfMayNotEndPastByte107)
{
    proxy_header h;
    std::string line = "PROXY UNKNOWN " + std::string(PROXY_HEADER_V1_MAX - 15, 'x') + "\r";
    ASSERT_EQ(line.size(), static_cast<size_t>(PROXY_HEADER_V1_MAX));
    EXPECT_EQ(parse(line, &h), PROXY_HEADER_INVALID);
    EXPECT_EQ(parse(line + "\n", &h), PROXY_HEADER_INVALID);
}
