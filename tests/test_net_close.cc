// test_net_close.cc -- net_close_is_safe: when a plain close cannot cost a loopback TCP peer
// any of the server's output, whichever way the answer is found.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "net.h"
#include "testproc.h"

namespace {

// A connected loopback TCP pair: `server` (accepted) and `client`; both closed on exit.
struct TcpPair {
    int server = -1, client = -1;
    TcpPair()
    {
        int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in addr = {};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) < 0 || listen(listener, 1) < 0 ||
            getsockname(listener, (struct sockaddr *)&addr, &len) < 0) {
            if (listener >= 0)
                close(listener);
            return;
        }
        client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (client >= 0 && connect(client, (struct sockaddr *)&addr, len) == 0)
            server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        close(listener);
    }
    ~TcpPair()
    {
        if (server >= 0)
            close(server);
        if (client >= 0)
            close(client);
    }
};

// The client has acknowledged everything the server sent (loopback: at once, or nearly).
bool settles(const std::function<bool()> &cond) { return wait_until(cond, 2000); }

TEST(NetClose, SafeWhenThePeerSentNothingAndHasEverything)
{
    TcpPair p;
    ASSERT_GE(p.server, 0);
    ASSERT_EQ(send(p.server, "hello", 5, MSG_NOSIGNAL), 5);
    EXPECT_TRUE(settles([&] { return net_close_is_safe(p.server) == 1; }));
}

TEST(NetClose, UnsafeWithUnreadInput)
{
    TcpPair p;
    ASSERT_GE(p.server, 0);
    ASSERT_EQ(send(p.client, "GET /", 5, MSG_NOSIGNAL), 5);
    struct pollfd readable = {p.server, POLLIN, 0};
    ASSERT_EQ(poll(&readable, 1, 2000), 1);
    ASSERT_EQ(send(p.server, "hello", 5, MSG_NOSIGNAL), 5);
    usleep(20000); // what the client acknowledges changes nothing: the input is unread
    EXPECT_EQ(net_close_is_safe(p.server), 0);
}

// The peer sent data that the server read (as a protocol header would be): nothing is unread,
// so the close is safe, though the connection's counters say data came in.
TEST(NetClose, SafeOnceEverythingThePeerSentWasRead)
{
    TcpPair p;
    ASSERT_GE(p.server, 0);
    ASSERT_EQ(send(p.client, "PROXY", 5, MSG_NOSIGNAL), 5);
    char buf[8];
    ASSERT_EQ(recv(p.server, buf, sizeof(buf), 0), 5);
    ASSERT_EQ(send(p.server, "hello", 5, MSG_NOSIGNAL), 5);
    EXPECT_TRUE(settles([&] { return net_close_is_safe(p.server) == 1; }));
}

// A client that half-closes at once sent no data: its FIN alone is no reason to linger.
TEST(NetClose, APeerFinAloneIsNoInput)
{
    TcpPair p;
    ASSERT_GE(p.server, 0);
    ASSERT_EQ(shutdown(p.client, SHUT_WR), 0);
    ASSERT_EQ(send(p.server, "hello", 5, MSG_NOSIGNAL), 5);
    EXPECT_TRUE(settles([&] { return net_close_is_safe(p.server) == 1; }));
}

// Output the peer has not taken yet (its receive window is full): unsafe, as a reset would
// throw it away.
TEST(NetClose, UnsafeWhileOutputIsUnacknowledged)
{
    TcpPair p;
    ASSERT_GE(p.server, 0);
    std::string chunk(64 * 1024, 'g');
    size_t queued = 0;
    while (queued < 64u * 1024 * 1024) {
        ssize_t n = send(p.server, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            break;
        queued += (size_t)n;
    }
    ASSERT_GT(queued, 0u);
    EXPECT_EQ(net_close_is_safe(p.server), 0);
}

} // namespace
