// test_queue.cc -- the bounded connection queue: order, bounds, blocking, wake-ups, close.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "queue.h"

namespace {

conn_item item(int fd)
{
    conn_item it = {};
    it.fd = fd;
    return it;
}

int push(conn_queue *q, int fd)
{
    conn_item it = item(fd);
    return conn_queue_push(q, &it);
}

int try_push(conn_queue *q, int fd)
{
    conn_item it = item(fd);
    return conn_queue_try_push(q, &it);
}

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
    conn_item out;
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++)
            ASSERT_EQ(push(&q, next_in++), 0);
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ(conn_queue_pop(&q, &out), 0);
            EXPECT_EQ(out.fd, next_out++);
        }
    }
    EXPECT_EQ(conn_queue_high_water(&q), 3u);
}

TEST_F(QueueTest, TryPushReportsFull)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(try_push(&q, i), 0);
    conn_item extra = item(99);
    EXPECT_EQ(conn_queue_try_push(&q, &extra), 1);
    EXPECT_EQ(conn_queue_high_water(&q), 4u);
}

TEST_F(QueueTest, PushBlocksWhileFullUntilAPop)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 0);
    std::atomic<bool> pushed{false};
    std::thread producer([&] {
        conn_item fifth = item(4);
        EXPECT_EQ(conn_queue_push(&q, &fifth), 0);
        pushed = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(pushed.load()) << "push must wait while the queue is full";
    conn_item out;
    ASSERT_EQ(conn_queue_pop(&q, &out), 0);
    EXPECT_EQ(out.fd, 0);
    producer.join();
    EXPECT_TRUE(pushed.load());
    for (int want = 1; want <= 4; want++) {
        ASSERT_EQ(conn_queue_pop(&q, &out), 0);
        EXPECT_EQ(out.fd, want);
    }
}

TEST_F(QueueTest, PopWaitsForAPush)
{
    std::atomic<int> got{-1};
    std::thread consumer([&] {
        conn_item out;
        if (conn_queue_pop(&q, &out) == 0)
            got = out.fd;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(got.load(), -1);
    conn_item seven = item(7);
    ASSERT_EQ(conn_queue_push(&q, &seven), 0);
    consumer.join();
    EXPECT_EQ(got.load(), 7);
}

TEST_F(QueueTest, CloseReleasesEveryWaiterAndDrainsFirst)
{
    std::vector<std::thread> consumers;
    std::atomic<int> finished{0};
    for (int i = 0; i < 6; i++)
        consumers.emplace_back([&] {
            conn_item out;
            while (conn_queue_pop(&q, &out) == 0) {
            }
            finished++;
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    conn_queue_close(&q);
    for (auto &t : consumers)
        t.join();
    EXPECT_EQ(finished.load(), 6);

    // After close: pushes fail; items queued before close are still handed out.
    conn_item x = item(1);
    EXPECT_EQ(conn_queue_push(&q, &x), -1);
    EXPECT_EQ(conn_queue_try_push(&q, &x), -1);
}

TEST_F(QueueTest, ClosedQueueHandsOutWhatItHolds)
{
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(push(&q, i), 0);
    conn_queue_close(&q);
    conn_item out;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(conn_queue_pop(&q, &out), 0);
        EXPECT_EQ(out.fd, i);
    }
    EXPECT_EQ(conn_queue_pop(&q, &out), -1);
}

TEST_F(QueueTest, CloseReleasesABlockedProducer)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 0);
    std::atomic<int> rc{1};
    std::thread producer([&] {
        conn_item x = item(9);
        rc = conn_queue_push(&q, &x);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    conn_queue_close(&q);
    producer.join();
    EXPECT_EQ(rc.load(), -1);
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
}

TEST_F(QueueTest, WaitBelowReturnsAtOnceWhenTheQueueIsShort)
{
    ASSERT_EQ(push(&q, 1), 0);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(conn_queue_wait_below(&q, 2, 10000), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(QueueTest, WaitBelowGivesUpAfterItsTimeoutWhileTheQueueStaysDeep)
{
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(push(&q, i), 0);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(conn_queue_wait_below(&q, 2, 60), 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(60));
}

// The producer sleeps until consumers have taken the queue below its mark, not at each pop.
TEST_F(QueueTest, WaitBelowWakesOnceConsumersDrainBelowTheMark)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 0);
    std::atomic<int> result{-1};
    std::thread producer([&] { result = conn_queue_wait_below(&q, 2, 20000); });
    conn_item out[2];
    ASSERT_EQ(conn_queue_pop_many(&q, out, 1, 1, 0, 0), 1u); // 3 left: still deep
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(result.load(), -1) << "returned with 3 queued and a mark of 2";
    ASSERT_EQ(conn_queue_pop_many(&q, out, 2, 1, 0, 0), 2u); // 1 left
    producer.join();
    EXPECT_EQ(result.load(), 1);
}

TEST_F(QueueTest, CloseReleasesAProducerWaitingForTheQueueToDrain)
{
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(push(&q, i), 0);
    std::atomic<int> result{-1};
    std::thread producer([&] { result = conn_queue_wait_below(&q, 1, 20000); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    conn_queue_close(&q);
    producer.join();
    EXPECT_EQ(result.load(), 1);
}

// The wake-up policy, driven through the queue's fields: one consumer awake, one asleep
// (idle_consumers is faked; a signal to nobody is harmless). The awake one counts as stuck
// only when it has taken nothing for QUEUE_STALLED_AFTER_NS.
class QueueWakePolicy : public QueueTest {
  protected:
    unsigned wakes_after_push(uint64_t accepted_ns, uint64_t last_pop_ns)
    {
        q.consumers = 2;
        q.idle_consumers = 1;
        q.wakeups_pending = 0;
        q.last_pop_ns = last_pop_ns;
        conn_item it = item(1);
        it.accepted_ns = accepted_ns;
        EXPECT_EQ(conn_queue_try_push(&q, &it), 0);
        unsigned wakes = q.wakeups_pending;
        q.idle_consumers = 0;
        conn_item out;
        EXPECT_EQ(conn_queue_pop(&q, &out), 0);
        return wakes;
    }
};

TEST_F(QueueWakePolicy, AConsumerThatTookNothingForLongLooksStuck)
{
    const uint64_t now = 1000000000000u;
    EXPECT_EQ(wakes_after_push(now, now - 2 * (uint64_t)QUEUE_STALLED_AFTER_NS), 1u);
    EXPECT_EQ(wakes_after_push(now, now - QUEUE_STALLED_AFTER_NS / 2), 0u);
}

// An item's accept time can be older than the last pop (the pop happened between the accept
// and the push): that is not a stall, or every batch would wake a second consumer.
TEST_F(QueueWakePolicy, AnItemAcceptedBeforeTheLastPopIsNoStall)
{
    const uint64_t now = 1000000000000u;
    EXPECT_EQ(wakes_after_push(now, now + 1000), 0u);
}

// Many producers and consumers: every item comes out exactly once.
TEST(QueueStress, ManyThreadsEveryItemExactlyOnce)
{
    conn_queue q;
    char err[128];
    ASSERT_EQ(conn_queue_init(&q, 8, err, sizeof(err)), 0);
    const int producers = 4, consumers = 6, per_producer = 20000;
    std::vector<std::atomic<int>> seen(producers * per_producer);
    std::vector<std::thread> threads;
    for (int c = 0; c < consumers; c++)
        threads.emplace_back([&] {
            conn_item out;
            while (conn_queue_pop(&q, &out) == 0)
                seen[out.fd]++;
        });
    std::vector<std::thread> makers;
    for (int p = 0; p < producers; p++)
        makers.emplace_back([&, p] {
            for (int i = 0; i < per_producer; i++) {
                conn_item it = item(p * per_producer + i);
                ASSERT_EQ(conn_queue_push(&q, &it), 0);
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

} // namespace
