// test_pool_policy.cc -- the pool's hand-off policy as pure functions: wake-ups, shares, refill marks, the accept thread's serving budget.
#include <gtest/gtest.h>

#include "pool_policy.h"

namespace {

// Eight workers on two CPUs, one asleep, items queued; each test changes what it is about.
pool_view view()
{
    pool_view v = {};
    v.queued = 10;
    v.consumers = 8;
    v.asleep = 1;
    v.service_ns = 20000;
    v.service_cpu_ns = 18000; // a bare greeting: mostly CPU (the kernel's), cheap
    v.since_pop_ns = 0;
    v.cpus = 2;
    return v;
}

TEST(PoolWake, NothingQueuedOrNobodyAsleepWakesNobody)
{
    pool_view v = view();
    v.queued = 0;
    EXPECT_EQ(pool_should_wake(&v), 0);
    v = view();
    v.asleep = 0;
    EXPECT_EQ(pool_should_wake(&v), 0);
}

TEST(PoolWake, NobodyAwakeWakesOne)
{
    pool_view v = view();
    v.asleep = v.consumers;
    v.queued = 1;
    EXPECT_EQ(pool_should_wake(&v), 1);
}

// A worker that took nothing for several time slices is stuck; one merely preempted (less
// than POOL_STALLED_AFTER_NS, which a busy machine's run queue reaches at 5 ms) is not.
TEST(PoolWake, StalledAfterTwentyMillisecondsNotBefore)
{
    pool_view v = view();
    v.asleep = 7; // one awake, as many as cheap work can use
    v.queued = 1;
    v.since_pop_ns = 10000000; // 10 ms: preempted behind a few other threads
    EXPECT_EQ(pool_should_wake(&v), 0);
    v.since_pop_ns = POOL_STALLED_AFTER_NS + 1;
    EXPECT_EQ(pool_should_wake(&v), 1);
    EXPECT_EQ(POOL_STALLED_AFTER_NS, 20000000u);
}

// Cheap CPU work (a bare greeting) spreads to a second worker only on a long backlog:
// queued x service / awake above POOL_LONG_BACKLOG_NS.
TEST(PoolWake, CheapWorkSpreadsOnlyOnALongBacklog)
{
    pool_view v = view();
    v.asleep = 7; // one awake
    v.queued = 100; // 100 x 20 us = 2 ms: one worker keeps up
    EXPECT_EQ(pool_should_wake(&v), 0);
    v.queued = 1000; // 20 ms of work queued
    EXPECT_EQ(pool_should_wake(&v), 1);
}

// Work that mostly waits (a 1 ms sleep) spreads as soon as the backlog passes
// POOL_WAKE_AFTER_NS, up to CPUs x wall/CPU workers.
TEST(PoolWake, WaitingWorkSpreadsEarly)
{
    pool_view v = view();
    v.service_ns = 1000000;
    v.service_cpu_ns = 10000;
    v.asleep = 6; // two awake
    v.queued = 1; // 0.5 ms each: above 200 us
    EXPECT_EQ(pool_should_wake(&v), 1);
}

// CPU-heavy work (a TLS handshake): a second worker once the first falls behind (more than
// POOL_CPU_BACKLOG_NS queued per awake worker), not for an item or two queued behind it.
TEST(PoolWake, CpuWorkSpreadsOnceAWorkerFallsBehind)
{
    pool_view v = view();
    v.service_ns = 450000;
    v.service_cpu_ns = 400000;
    v.asleep = 7; // one awake
    v.queued = 2; // 0.9 ms queued: it keeps up
    EXPECT_EQ(pool_should_wake(&v), 0);
    v.queued = 3; // 1.35 ms
    EXPECT_EQ(pool_should_wake(&v), 1);
    v.service_ns = 600000; // mostly waiting: 600 us queued is past POOL_WAKE_AFTER_NS
    v.service_cpu_ns = 100000;
    v.queued = 1;
    EXPECT_EQ(pool_should_wake(&v), 1);
}

// Work that computes, slowed by preemption to twice its CPU time, still gets one worker per
// CPU: more would only be preempted more.
TEST(PoolWake, PreemptedCpuWorkStillStopsAtOneWorkerPerCpu)
{
    pool_view v = view();
    v.service_ns = 900000;
    v.service_cpu_ns = 400000;
    v.queued = 50;
    v.asleep = 6; // two awake on two CPUs
    EXPECT_EQ(pool_should_wake(&v), 0);
    v.service_ns = 1600000; // 4x: now it mostly waits, and 8 workers are useful
    EXPECT_EQ(pool_should_wake(&v), 1);
}

// CPU-heavy work: worth spreading, but no more awake than CPUs.
TEST(PoolWake, CpuWorkStopsAtOneWorkerPerCpu)
{
    pool_view v = view();
    v.service_ns = 1000000;
    v.service_cpu_ns = 950000;
    v.queued = 50;
    v.asleep = 7; // one awake of two useful
    EXPECT_EQ(pool_should_wake(&v), 1);
    v.asleep = 6; // two awake on two CPUs
    EXPECT_EQ(pool_should_wake(&v), 0);
}

TEST(PoolShare, FairShareRoundedUpAndCapped)
{
    EXPECT_EQ(pool_share(10, 1, 16), 10u);
    EXPECT_EQ(pool_share(10, 4, 16), 3u);
    EXPECT_EQ(pool_share(100, 2, 16), 16u);
    EXPECT_EQ(pool_share(0, 4, 16), 0u);
    EXPECT_EQ(pool_share(1, 8, 16), 1u);
}

TEST(PoolAverage, MovesAnEighthTowardEachSample)
{
    EXPECT_EQ(pool_average(800, 1600), 900u);
    uint64_t avg = 200000;
    for (int i = 0; i < 100; i++)
        avg = pool_average(avg, 20000);
    EXPECT_NEAR((double)avg, 20000.0, 200.0);
}

// low = max(4 x batch, 2 x workers), high = 2 x low, with room for a batch left in the queue.
// The accept thread serves for at most half of each window: allowed until half of it went to
// serving, refused for the rest of that window, allowed again in the next.
TEST(PoolServeHere, AtMostHalfOfEachWindow)
{
    pool_serve_budget b = {0, 0};
    const uint64_t t0 = 1000000000u, w = POOL_SERVE_WINDOW_NS;
    EXPECT_EQ(pool_may_serve_here(&b, t0), 1);
    pool_served_here(&b, w / 2 - 1);
    EXPECT_EQ(pool_may_serve_here(&b, t0 + w / 2), 1);
    pool_served_here(&b, 1);
    EXPECT_EQ(pool_may_serve_here(&b, t0 + w / 2 + 1), 0);
    EXPECT_EQ(pool_may_serve_here(&b, t0 + w - 1), 0);
    EXPECT_EQ(pool_may_serve_here(&b, t0 + w), 1); // a new window
    EXPECT_EQ(b.served_ns, 0u);
    pool_served_here(&b, w); // one long serve spends a whole window's half and more
    EXPECT_EQ(pool_may_serve_here(&b, t0 + w + 1), 0);
    EXPECT_EQ(pool_may_serve_here(&b, t0 + 5 * w), 1);
}

TEST(PoolRefill, MarksFromWorkersAndBatch)
{
    pool_refill r = pool_refill_for(1024, 8, 16, 4096, 1);
    EXPECT_EQ(r.refill, 1);
    EXPECT_EQ(r.low, 64u);
    EXPECT_EQ(r.high, 128u);
    r = pool_refill_for(1024, 100, 16, 4096, 1);
    EXPECT_EQ(r.low, 200u);
    EXPECT_EQ(r.high, 400u);
    r = pool_refill_for(100, 8, 16, 4096, 1); // small queue: high leaves a batch's room
    EXPECT_EQ(r.high, 84u);
    EXPECT_EQ(r.low, 64u);
}

// Accept at once under --overload reject, and when the backlog could not hold several refills.
TEST(PoolRefill, OffUnderRejectOrASmallBacklog)
{
    EXPECT_EQ(pool_refill_for(1024, 8, 16, 4096, 0).refill, 0);
    EXPECT_EQ(pool_refill_for(1024, 8, 16, 511, 1).refill, 0);
    EXPECT_EQ(pool_refill_for(1024, 8, 16, 512, 1).refill, 1);
}

} // namespace
