// test_mem_trim.cc -- when a surge's memory is given back: once it has ebbed for a moment, never
// on the dips of a steady load (a trim then only costs the next connections page faults).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "mem_trim.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Trimmer {
    mem_trimmer *t = nullptr;
    explicit Trimmer(uint64_t settle_ns = MEM_TRIM_SETTLE_NS)
    {
        char err[256];
        t = mem_trimmer_create(settle_ns, err, sizeof err);
        EXPECT_NE(t, nullptr) << err;
    }
    ~Trimmer() { mem_trimmer_destroy(t); }
};

// Waits up to limit for the trimmer to have run n trims; returns how many it ran.
unsigned long wait_for_trims(mem_trimmer *t, unsigned long n, std::chrono::nanoseconds limit)
{
    auto end = Clock::now() + limit;
    while (mem_trimmer_trims(t) < n && Clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return mem_trimmer_trims(t);
}

TEST(MemTrim, ASurgeThatEbbsIsTrimmedOnceItsAskHasStood)
{
    Trimmer tr;
    mem_surge s = {};
    mem_trim_note(tr.t, &s, 200);
    auto asked = Clock::now();
    mem_trim_note(tr.t, &s, 0); // over: the last call there will be
    EXPECT_EQ(wait_for_trims(tr.t, 1, std::chrono::seconds(5)), 1u);
    EXPECT_GE(Clock::now() - asked, std::chrono::nanoseconds(MEM_TRIM_SETTLE_NS));
    std::this_thread::sleep_for(std::chrono::nanoseconds(2 * MEM_TRIM_SETTLE_NS));
    EXPECT_EQ(mem_trimmer_trims(tr.t), 1u) << "one ask, one trim";
}

TEST(MemTrim, SmallSurgesAreNotWorthATrim)
{
    Trimmer tr(0);
    mem_surge s = {};
    for (int i = 0; i < 100; i++) {
        mem_trim_note(tr.t, &s, MEM_TRIM_PEAK_MIN - 1);
        mem_trim_note(tr.t, &s, 0);
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(2 * MEM_TRIM_INTERVAL_NS));
    EXPECT_EQ(mem_trimmer_trims(tr.t), 0u);
}

// Steady load: the live count dips under a quarter of its peak and is back a moment later,
// again and again; each dip asks for a trim and the return calls it off before it stands.
// Once the load ends, the memory goes back.
TEST(MemTrim, DipsOfASteadyLoadAreNotTrimmed)
{
    // A dip longer than the settling time (this thread descheduled on a busy machine) may
    // rightly be trimmed: such a run is tried again, three times at most.
    for (int attempt = 0; attempt < 3; attempt++) {
        Trimmer tr;
        mem_surge s = {};
        bool prompt = true;
        auto end = Clock::now() + std::chrono::nanoseconds(3 * MEM_TRIM_SETTLE_NS);
        while (Clock::now() < end && prompt) {
            auto dip = Clock::now();
            mem_trim_note(tr.t, &s, 200);
            mem_trim_note(tr.t, &s, 40); // asks
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            mem_trim_note(tr.t, &s, 100); // back to half the peak: calls it off
            prompt = Clock::now() - dip < std::chrono::nanoseconds(MEM_TRIM_SETTLE_NS / 4);
        }
        std::this_thread::sleep_for(std::chrono::nanoseconds(2 * MEM_TRIM_SETTLE_NS));
        if (!prompt)
            continue;
        EXPECT_EQ(mem_trimmer_trims(tr.t), 0u) << "a trim ran under steady load";
        mem_trim_note(tr.t, &s, 0);
        EXPECT_EQ(wait_for_trims(tr.t, 1, std::chrono::seconds(5)), 1u);
        return;
    }
    ADD_FAILURE() << "no dip was short enough in three attempts (machine too busy?)";
}

// A fall that goes on (back only to a small part of its peak) is not called off.
TEST(MemTrim, ALowReturnDoesNotCallTheTrimOff)
{
    Trimmer tr;
    mem_surge s = {};
    mem_trim_note(tr.t, &s, 1000);
    mem_trim_note(tr.t, &s, 200); // asks
    mem_trim_note(tr.t, &s, 300); // above MEM_TRIM_PEAK_MIN but under half of 1000
    EXPECT_EQ(wait_for_trims(tr.t, 1, std::chrono::seconds(5)), 1u);
}

// The thread model's trimmer (no settling time) trims at each ask, an interval apart.
TEST(MemTrim, WithoutASettlingTimeEachDipIsTrimmed)
{
    Trimmer tr(0);
    mem_surge s = {};
    auto end = Clock::now() + std::chrono::nanoseconds(5 * MEM_TRIM_INTERVAL_NS);
    while (Clock::now() < end) {
        mem_trim_note(tr.t, &s, 200);
        mem_trim_note(tr.t, &s, 40);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        mem_trim_note(tr.t, &s, 100);
    }
    EXPECT_GE(mem_trimmer_trims(tr.t), 3u);
}

} // namespace
