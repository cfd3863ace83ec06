// test_admission.cc -- the admission state: caps per address and in total, rules, release.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
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

} // namespace
