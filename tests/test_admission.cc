// test_admission.cc -- the admission state: caps per address and in total, rules, release.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "admission.h"

namespace {

struct sockaddr_storage v4(uint32_t host_order)
{
    struct sockaddr_storage ss = {};
    auto *s = reinterpret_cast<sockaddr_in *>(&ss);
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(host_order);
    return ss;
}

const sockaddr *sa(const sockaddr_storage &ss) { return reinterpret_cast<const sockaddr *>(&ss); }

TEST(Admission, TotalCap)
{
    admission_config cfg = {};
    cfg.max_conns = 2;
    char err[128];
    admission *adm = admission_create(&cfg, err, sizeof(err));
    ASSERT_NE(adm, nullptr) << err;
    auto a = v4(0x7f000001);
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_OK);
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_OK);
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_BUSY);
    admission_release(adm, sa(a));
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_OK);
    admission_destroy(adm);
}

// Many addresses in a table with deletions in random order: every address keeps its own
// count (the backward-shift deletion must never lose an entry behind a freed slot).
TEST(Admission, PerAddressCapSurvivesChurn)
{
    admission_config cfg = {};
    cfg.max_per_ip = 1;
    char err[128];
    admission *adm = admission_create(&cfg, err, sizeof(err));
    ASSERT_NE(adm, nullptr) << err;
    std::vector<uint32_t> addrs;
    for (uint32_t i = 0; i < 20000; i++)
        addrs.push_back(0x0a000000u + i * 7919u);
    for (uint32_t a : addrs)
        ASSERT_EQ(admission_admit(adm, sa(v4(a))), ADMIT_OK);
    std::mt19937 rng(42);
    std::shuffle(addrs.begin(), addrs.end(), rng);
    size_t half = addrs.size() / 2;
    for (size_t i = 0; i < half; i++)
        admission_release(adm, sa(v4(addrs[i])));
    for (size_t i = 0; i < addrs.size(); i++)
        ASSERT_EQ(admission_admit(adm, sa(v4(addrs[i]))), i < half ? ADMIT_OK : ADMIT_BUSY) << i;
    admission_destroy(adm);
}

TEST(Admission, DenyWinsOverAllow)
{
    cidr_block allow, deny;
    char err[128];
    ASSERT_EQ(cidr_parse("127.0.0.0/8", &allow, err, sizeof(err)), 0);
    ASSERT_EQ(cidr_parse("127.0.0.1", &deny, err, sizeof(err)), 0);
    admission_config cfg = {};
    cfg.allow = &allow;
    cfg.allow_count = 1;
    cfg.deny = &deny;
    cfg.deny_count = 1;
    admission *adm = admission_create(&cfg, err, sizeof(err));
    ASSERT_NE(adm, nullptr);
    EXPECT_EQ(admission_admit(adm, sa(v4(0x7f000001))), ADMIT_DENIED);
    EXPECT_EQ(admission_admit(adm, sa(v4(0x7f000002))), ADMIT_OK);
    EXPECT_EQ(admission_admit(adm, sa(v4(0x0a000001))), ADMIT_DENIED); // not in any allow
    admission_destroy(adm);
}

// The state is shared with forked children: a child's admissions count in the parent.
TEST(Admission, SharedAcrossFork)
{
    admission_config cfg = {};
    cfg.max_per_ip = 3;
    char err[128];
    admission *adm = admission_create(&cfg, err, sizeof(err));
    ASSERT_NE(adm, nullptr);
    auto a = v4(0x7f000001);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = admission_admit(adm, sa(a)) == ADMIT_OK && admission_admit(adm, sa(a)) == ADMIT_OK;
        _exit(ok ? 0 : 1);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_OK);
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_BUSY);
    admission_destroy(adm);
}

// --rate-per-ip's token bucket.
admission *rate_limiter(double per_second)
{
    admission_config cfg = {};
    cfg.rate_per_ip = per_second;
    char err[128];
    admission *adm = admission_create(&cfg, err, sizeof(err));
    EXPECT_NE(adm, nullptr) << err;
    return adm;
}

// How many of n attempts from addr pass at once.
int passed(admission *adm, const sockaddr_storage &addr, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += admission_rate_allow(adm, sa(addr));
    return ok;
}

// One second's worth at once, then nothing until the bucket refills; other addresses have
// buckets of their own.
TEST(RateBucket, BurstOfOneSecondThenRefill)
{
    admission *adm = rate_limiter(100);
    ASSERT_NE(adm, nullptr);
    auto a = v4(0x7f000001), b = v4(0x7f000002);
    EXPECT_EQ(passed(adm, a, 150), 100);
    EXPECT_EQ(passed(adm, b, 150), 100);
    EXPECT_EQ(admission_admit(adm, sa(a)), ADMIT_RATE);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int refilled = passed(adm, a, 100); // about 5 (10 ms per token), however slow the machine
    EXPECT_GE(refilled, 4);
    EXPECT_LE(refilled, 100);
    admission_destroy(adm);
}

// A fraction of a connection per second: /m, and a bucket of at least one.
TEST(RateBucket, PerMinuteHasABucketOfOne)
{
    admission *adm = rate_limiter(30.0 / 60);
    ASSERT_NE(adm, nullptr);
    EXPECT_EQ(passed(adm, v4(0x0a000001), 5), 1);
    admission_destroy(adm);
}

// The table is bounded: 200,000 addresses pass through it (3x its size) and each new one
// is let in; an address seen just now keeps its (empty) bucket.
TEST(RateBucket, ManyAddressesNeverRefusedForTableSpace)
{
    admission *adm = rate_limiter(1);
    ASSERT_NE(adm, nullptr);
    auto flooder = v4(0xc6120001);
    EXPECT_EQ(passed(adm, flooder, 3), 1);
    int refused = 0;
    for (uint32_t i = 0; i < 200000; i++)
        refused += !admission_rate_allow(adm, sa(v4(0x0b000000 + i)));
    EXPECT_EQ(refused, 0);
    admission_destroy(adm);
}

// Non-IP peers (UNIX sockets) are not rate-limited.
TEST(RateBucket, UnixPeersPass)
{
    admission *adm = rate_limiter(1);
    ASSERT_NE(adm, nullptr);
    struct sockaddr_storage un = {};
    un.ss_family = AF_UNIX;
    EXPECT_EQ(passed(adm, un, 5), 5);
    admission_destroy(adm);
}

} // namespace
