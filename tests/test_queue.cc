// test_queue.cc -- the bounded connection queue: order, bounds, blocking, close, and the paths the pool uses.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "clock.h"
#include "pool_policy.h"
#include "queue.h"

namespace {

conn_item item(int fd)
{
    conn_item it = {};
    it.fd = fd;
    return it;
}

// Pushes one item without waiting: 1 pushed, 0 full or closed.
size_t push(conn_queue *q, int fd)
{
    conn_item it = item(fd);
    return conn_queue_push_many(q, &it, 1, 0, nullptr);
}

// Takes one item as a lone consumer; -1 when closed and empty.
int pop(conn_queue *q)
{
    conn_item out;
    return conn_queue_pop_many(q, &out, 1, 1, 0, 0) == 1 ? out.fd : -1;
}

// Waits (10 s at most) until the queue holds `consumers` idle consumers and `producers`
// producers waiting for room: then the other threads are blocked in the queue, not about to
// be, and what the test does next meets them there. false on timeout.
bool wait_for_waiters(conn_queue *q, unsigned consumers, unsigned producers)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        pthread_mutex_lock(&q->lock);
        bool there = q->idle_consumers == consumers && q->waiting_producers == producers;
        pthread_mutex_unlock(&q->lock);
        if (there)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

// How long a test lets a blocked thread run before checking that it is still blocked.
const auto kStillBlocked = std::chrono::milliseconds(20);

class QueueTest : public ::testing::Test {
  protected:
    void SetUp() override
    {
        char err[128];
        ASSERT_EQ(conn_queue_init(&q, 4, err, sizeof(err)), 0);
    }
    void TearDown() override { conn_queue_destroy(&q); }
    conn_queue q;
};

TEST(QueueInit, ZeroCapacityIsRefused)
{
    conn_queue q;
    char err[128];
    EXPECT_EQ(conn_queue_init(&q, 0, err, sizeof(err)), -1);
    EXPECT_STREQ(err, "queue capacity must be at least 1");
}

TEST_F(QueueTest, FifoOrderAcrossWrapAround)
{
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++)
            ASSERT_EQ(push(&q, next_in++), 1u);
        for (int i = 0; i < 3; i++)
            EXPECT_EQ(pop(&q), next_out++);
    }
    EXPECT_EQ(conn_queue_high_water(&q), 3u);
}

TEST_F(QueueTest, PushManyReportsHowManyTheQueueHolds)
{
    conn_item items[3] = {item(1), item(2), item(3)};
    size_t queued = 0;
    EXPECT_EQ(conn_queue_push_many(&q, items, 3, 0, &queued), 3u);
    EXPECT_EQ(queued, 3u);
    // One slot left: a non-waiting push stops at it and says the queue is full.
    EXPECT_EQ(conn_queue_push_many(&q, items, 3, 0, &queued), 1u);
    EXPECT_EQ(queued, 4u);
    EXPECT_EQ(conn_queue_high_water(&q), 4u);
}

TEST_F(QueueTest, PopManyTakesItsShareInOrder)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 1u);
    conn_item out[4];
    // Two consumers: each takes half of what is queued per lock.
    ASSERT_EQ(conn_queue_pop_many(&q, out, 4, 2, 0, 0), 2u);
    EXPECT_EQ(out[0].fd, 0);
    EXPECT_EQ(out[1].fd, 1);
    ASSERT_EQ(conn_queue_pop_many(&q, out, 1, 1, 0, 0), 1u);
    EXPECT_EQ(out[0].fd, 2);
}

TEST_F(QueueTest, AWaitingPushBlocksWhileFullUntilAPop)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 1u);
    std::atomic<bool> pushed{false};
    std::thread producer([&] {
        conn_item fifth = item(4);
        EXPECT_EQ(conn_queue_push_many(&q, &fifth, 1, 1, nullptr), 1u);
        pushed = true;
    });
    EXPECT_TRUE(wait_for_waiters(&q, 0, 1)) << "push must wait while the queue is full";
    std::this_thread::sleep_for(kStillBlocked);
    EXPECT_FALSE(pushed.load()) << "push must wait while the queue is full";
    EXPECT_EQ(pop(&q), 0);
    producer.join();
    EXPECT_TRUE(pushed.load());
    for (int want = 1; want <= 4; want++)
        EXPECT_EQ(pop(&q), want);
}

TEST_F(QueueTest, PopWaitsForAPush)
{
    std::atomic<int> got{-2};
    std::thread consumer([&] { got = pop(&q); });
    EXPECT_TRUE(wait_for_waiters(&q, 1, 0));
    EXPECT_EQ(got.load(), -2);
    ASSERT_EQ(push(&q, 7), 1u);
    consumer.join();
    EXPECT_EQ(got.load(), 7);
}

TEST_F(QueueTest, CloseReleasesEveryWaiterAndRefusesPushes)
{
    std::vector<std::thread> consumers;
    std::atomic<int> finished{0};
    for (int i = 0; i < 6; i++)
        consumers.emplace_back([&] {
            while (pop(&q) >= 0) {
            }
            finished++;
        });
    EXPECT_TRUE(wait_for_waiters(&q, 6, 0));
    conn_queue_close(&q);
    for (auto &t : consumers)
        t.join();
    EXPECT_EQ(finished.load(), 6);
    conn_item x = item(1);
    EXPECT_EQ(conn_queue_push_many(&q, &x, 1, 1, nullptr), 0u);
}

TEST_F(QueueTest, ClosedQueueHandsOutWhatItHolds)
{
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(push(&q, i), 1u);
    conn_queue_close(&q);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(pop(&q), i);
    EXPECT_EQ(pop(&q), -1);
}

TEST_F(QueueTest, CloseReleasesABlockedProducer)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 1u);
    std::atomic<size_t> pushed{9};
    std::thread producer([&] {
        conn_item x = item(9);
        pushed = conn_queue_push_many(&q, &x, 1, 1, nullptr);
    });
    EXPECT_TRUE(wait_for_waiters(&q, 0, 1));
    conn_queue_close(&q);
    producer.join();
    EXPECT_EQ(pushed.load(), 0u);
}

TEST_F(QueueTest, WaitBelowReturnsAtOnceWhenTheQueueIsShort)
{
    ASSERT_EQ(push(&q, 1), 1u);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(conn_queue_wait_below(&q, 2, 10000), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(QueueTest, WaitBelowGivesUpAfterItsTimeoutWhileTheQueueStaysDeep)
{
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(push(&q, i), 1u);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(conn_queue_wait_below(&q, 2, 60), 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(60));
}

// The producer sleeps until consumers have taken the queue below its mark, not at each pop.
TEST_F(QueueTest, WaitBelowWakesOnceConsumersDrainBelowTheMark)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 1u);
    std::atomic<int> result{-1};
    std::thread producer([&] { result = conn_queue_wait_below(&q, 2, 20000); });
    conn_item out[2];
    EXPECT_TRUE(wait_for_waiters(&q, 0, 1));
    ASSERT_EQ(conn_queue_pop_many(&q, out, 1, 1, 0, 0), 1u); // 3 left: still deep
    std::this_thread::sleep_for(kStillBlocked);
    EXPECT_EQ(result.load(), -1) << "returned with 3 queued and a mark of 2";
    ASSERT_EQ(conn_queue_pop_many(&q, out, 2, 1, 0, 0), 2u); // 1 left
    producer.join();
    EXPECT_EQ(result.load(), 1);
}

TEST_F(QueueTest, CloseReleasesAProducerWaitingForTheQueueToDrain)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 1u);
    std::atomic<int> result{-1};
    std::thread producer([&] { result = conn_queue_wait_below(&q, 1, 20000); });
    EXPECT_TRUE(wait_for_waiters(&q, 0, 1));
    conn_queue_close(&q);
    producer.join();
    EXPECT_EQ(result.load(), 1);
}

// A sleeping consumer is woken through the policy: with nobody awake, one push wakes it.
TEST_F(QueueTest, APushWakesASleepingConsumerWhenNobodyIsAwake)
{
    std::atomic<int> got{-2};
    std::thread consumer([&] { got = pop(&q); });
    EXPECT_TRUE(wait_for_waiters(&q, 1, 0));
    conn_item it = item(5);
    ASSERT_EQ(conn_queue_push_many(&q, &it, 1, 0, nullptr), 1u);
    consumer.join();
    EXPECT_EQ(got.load(), 5);
}

// The accept thread's push: with every consumer asleep and nothing queued it pushes nothing
// and says so (the accept thread serves the item itself); with an item queued, or with the
// consumer awake, it pushes as conn_queue_push_many does.
TEST_F(QueueTest, PushUnlessIdleLeavesTheItemToTheCallerOnlyWhileEveryConsumerSleeps)
{
    conn_item it = item(7);
    int idle = -1;
    size_t queued = 99;
    // The lone consumer has not come to pop yet: it counts as awake.
    EXPECT_EQ(conn_queue_push_unless_idle(&q, &it, 1, 0, &queued, &idle), 1u);
    EXPECT_EQ(idle, 0);
    EXPECT_EQ(queued, 1u);
    EXPECT_EQ(pop(&q), 7);

    std::atomic<int> got{-2};
    std::thread consumer([&] { got = pop(&q); });
    ASSERT_TRUE(wait_for_waiters(&q, 1, 0));
    EXPECT_EQ(conn_queue_push_unless_idle(&q, &it, 1, 0, &queued, &idle), 0u);
    EXPECT_EQ(idle, 1);
    EXPECT_EQ(queued, 0u);
    std::this_thread::sleep_for(kStillBlocked);
    EXPECT_EQ(got.load(), -2) << "nothing was pushed: the consumer still sleeps";
    // A plain push wakes it; once an item waits, the push goes through either way.
    ASSERT_EQ(push(&q, 8), 1u);
    consumer.join();
    EXPECT_EQ(got.load(), 8);
    ASSERT_EQ(push(&q, 9), 1u);
    EXPECT_EQ(conn_queue_push_unless_idle(&q, &it, 1, 0, &queued, &idle), 1u);
    EXPECT_EQ(idle, 0);
    EXPECT_EQ(queued, 2u);
}

// Many producers and consumers on the pool's own paths (batches both ways, the consumers'
// service times feeding the wake-up policy), with `waiters` of the consumers on a waiter of
// their own and the rest on the shared condition variable: every item comes out exactly once.
void stress(unsigned waiters)
{
    conn_queue q;
    char err[128];
    ASSERT_EQ(conn_queue_init(&q, 8, err, sizeof(err)), 0);
    ASSERT_EQ(conn_queue_reserve_waiters(&q, waiters, err, sizeof(err)), 0);
    const int producers = 4, consumers = 6, per_producer = 20000, batch = 5;
    std::vector<std::atomic<int>> seen(producers * per_producer);
    std::vector<std::thread> threads;
    for (int c = 0; c < consumers; c++)
        threads.emplace_back([&] {
            conn_item out[batch];
            size_t n;
            uint64_t service = 0;
            while ((n = conn_queue_pop_many(&q, out, batch, consumers, service, service / 2)) > 0) {
                for (size_t i = 0; i < n; i++)
                    seen[out[i].fd]++;
                service = 1000 + n * 100;
            }
        });
    std::vector<std::thread> makers;
    for (int p = 0; p < producers; p++)
        makers.emplace_back([&, p] {
            conn_item in[batch];
            for (int i = 0; i < per_producer; i += batch) {
                for (int k = 0; k < batch; k++)
                    in[k] = item(p * per_producer + i + k);
                ASSERT_EQ(conn_queue_push_many(&q, in, batch, 1, nullptr), (size_t)batch);
            }
        });
    for (auto &t : makers)
        t.join();
    conn_queue_close(&q);
    for (auto &t : threads)
        t.join();
    for (size_t i = 0; i < seen.size(); i++)
        ASSERT_EQ(seen[i].load(), 1) << "item " << i;
    EXPECT_LE(conn_queue_high_water(&q), 8u);
    conn_queue_destroy(&q);
}

TEST(QueueStress, ManyThreadsEveryItemExactlyOnce) { stress(0); }
TEST(QueueStress, ManyThreadsEveryItemExactlyOnceEachOnItsOwnWaiter) { stress(6); }
TEST(QueueStress, ManyThreadsEveryItemExactlyOnceSomeOnTheirOwnWaiter) { stress(3); }

// A wake-up goes to the consumer that went idle last (its caches are the warm ones), not to
// the one that waited longest as the shared condition variable's did.
TEST(QueueWaiters, TheConsumerIdleLastIsWokenFirst)
{
    conn_queue q;
    char err[128];
    ASSERT_EQ(conn_queue_init(&q, 4, err, sizeof(err)), 0);
    ASSERT_EQ(conn_queue_reserve_waiters(&q, 3, err, sizeof(err)), 0);
    std::atomic<int> taker{-1};
    std::vector<std::thread> consumers;
    for (int c = 0; c < 3; c++) {
        consumers.emplace_back([&, c] {
            conn_item out;
            while (conn_queue_pop_many(&q, &out, 1, 3, 0, 0) == 1)
                taker = c;
        });
        ASSERT_TRUE(wait_for_waiters(&q, (unsigned)c + 1, 0)); // idle in this order
    }
    ASSERT_EQ(push(&q, 7), 1u);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (taker.load() < 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(taker.load(), 2);
    conn_queue_close(&q);
    for (auto &t : consumers)
        t.join();
    conn_queue_destroy(&q);
}

// A batch pushed after a quiet spell wakes one sleeping consumer, not one per item: a consumer
// just woken is not a stuck one, however long ago the last pop was.
TEST(QueueWaiters, ABatchAfterAQuietSpellWakesOneConsumer)
{
    conn_queue q;
    char err[128];
    ASSERT_EQ(conn_queue_init(&q, 64, err, sizeof(err)), 0);
    ASSERT_EQ(conn_queue_reserve_waiters(&q, 3, err, sizeof(err)), 0);
    std::atomic<int> taken[3] = {{0}, {0}, {0}};
    std::atomic<int> total{0};
    std::atomic<bool> hold{false};
    std::vector<std::thread> consumers;
    for (int c = 0; c < 3; c++) {
        consumers.emplace_back([&, c] {
            conn_item out;
            // Each pop reports cheap work (20 us, 18 of them CPU), which one awake consumer
            // serves best: the backlog rule wakes nobody for a short batch.
            while (conn_queue_pop_many(&q, &out, 1, 3, 20000, 18000) == 1) {
                taken[c]++;
                // Once held, an item keeps its consumer a while: another consumer woken
                // meanwhile takes the next one, so the counts show every wake-up.
                if (hold)
                    std::this_thread::sleep_for(std::chrono::milliseconds(30));
                total++;
            }
        });
    }
    // The queue's service averages start at "slow work" and move an eighth per report.
    for (int i = 0; i < 40; i++)
        ASSERT_EQ(push(&q, i), 1u);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (total.load() < 40 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(total.load(), 40);
    ASSERT_TRUE(wait_for_waiters(&q, 3, 0));
    hold = true;
    for (auto &t : taken)
        t = 0;
    // Longer than POOL_STALLED_AFTER_NS since anything was taken.
    std::this_thread::sleep_for(std::chrono::nanoseconds(POOL_STALLED_AFTER_NS + 5000000u));
    conn_item batch[3] = {item(1), item(2), item(3)};
    for (auto &it : batch)
        it.accepted_ns = clock_now_ns(); // the queue reads it as the time of the push
    ASSERT_EQ(conn_queue_push_many(&q, batch, 3, 0, nullptr), 3u);
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (total.load() < 43 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(total.load(), 43);
    int busy = 0;
    for (auto &t : taken)
        busy += t.load() > 0;
    EXPECT_EQ(busy, 1) << "items taken: " << taken[0] << ", " << taken[1] << ", " << taken[2];
    conn_queue_close(&q);
    for (auto &t : consumers)
        t.join();
    conn_queue_destroy(&q);
}

} // namespace
