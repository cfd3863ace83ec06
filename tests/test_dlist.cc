// test_dlist.cc -- the intrusive deadline lists: order, removal anywhere, moves between lists.
#include <gtest/gtest.h>

#include <vector>

#include "dlist.h"

namespace {

struct waiter {
    int id;
    dl_node timer;
};

std::vector<int> ids(const dl_list &l)
{
    std::vector<int> out;
    for (dl_node *n = l.head; n; n = n->next)
        out.push_back(DL_ENTRY(n, waiter, timer)->id);
    return out;
}

TEST(Dlist, AppendKeepsArrivalOrderAndTheHeadExpiresFirst)
{
    dl_list l = {};
    waiter a = {1, {}}, b = {2, {}}, c = {3, {}};
    dl_append(&l, &a.timer, 100);
    dl_append(&l, &b.timer, 200);
    dl_append(&l, &c.timer, 300);
    EXPECT_EQ(ids(l), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(l.head->deadline_ns, 100u);
    EXPECT_EQ(DL_ENTRY(l.tail, waiter, timer)->id, 3);
}

TEST(Dlist, RemovingHeadMiddleOrTailKeepsTheRest)
{
    dl_list l = {};
    waiter w[4] = {{1, {}}, {2, {}}, {3, {}}, {4, {}}};
    for (auto &x : w)
        dl_append(&l, &x.timer, (uint64_t)x.id);
    dl_remove(&w[1].timer);
    EXPECT_EQ(ids(l), (std::vector<int>{1, 3, 4}));
    dl_remove(&w[0].timer);
    EXPECT_EQ(ids(l), (std::vector<int>{3, 4}));
    dl_remove(&w[3].timer);
    EXPECT_EQ(ids(l), (std::vector<int>{3}));
    EXPECT_EQ(l.head, l.tail);
    dl_remove(&w[2].timer);
    EXPECT_EQ(l.head, nullptr);
    EXPECT_EQ(l.tail, nullptr);
    EXPECT_FALSE(dl_listed(&w[2].timer));
}

// A node that is in no list can be removed without harm to a list that holds others (the
// event model frees connections that never waited).
TEST(Dlist, RemovingAnUnlistedNodeChangesNothing)
{
    dl_list l = {};
    waiter a = {1, {}}, b = {2, {}}, lone = {9, {}};
    dl_append(&l, &a.timer, 1);
    dl_append(&l, &b.timer, 2);
    dl_remove(&lone.timer);
    dl_remove(&lone.timer);
    EXPECT_EQ(ids(l), (std::vector<int>{1, 2}));
}

TEST(Dlist, AppendMovesANodeFromItsListToTheEndOfAnother)
{
    dl_list timeouts = {}, backoffs = {};
    waiter a = {1, {}}, b = {2, {}}, c = {3, {}};
    dl_append(&timeouts, &a.timer, 10);
    dl_append(&timeouts, &b.timer, 20);
    dl_append(&backoffs, &c.timer, 5);
    dl_append(&backoffs, &a.timer, 30);
    EXPECT_EQ(ids(timeouts), (std::vector<int>{2}));
    EXPECT_EQ(ids(backoffs), (std::vector<int>{3, 1}));
    EXPECT_EQ(a.timer.deadline_ns, 30u);
    dl_append(&backoffs, &c.timer, 40); // re-arming in the same list goes to its end
    EXPECT_EQ(ids(backoffs), (std::vector<int>{1, 3}));
}

// A node that comes back with an older deadline goes to its place, not to the end; the first
// entry is then still the next to expire.
TEST(Dlist, InsertSortedPutsAnOlderDeadlineInItsPlace)
{
    dl_list l = {};
    waiter a = {1, {}}, b = {2, {}}, c = {3, {}}, d = {4, {}}, e = {5, {}};
    dl_insert_sorted(&l, &a.timer, 10);
    dl_insert_sorted(&l, &b.timer, 30);
    dl_insert_sorted(&l, &c.timer, 20); // between
    dl_insert_sorted(&l, &d.timer, 5);  // before all
    dl_insert_sorted(&l, &e.timer, 30); // equal to the last: after it
    EXPECT_EQ(ids(l), (std::vector<int>{4, 1, 3, 2, 5}));
    EXPECT_EQ(DL_FIRST(&l, waiter, timer), &d);
    dl_insert_sorted(&l, &d.timer, 25); // moves within its own list
    EXPECT_EQ(ids(l), (std::vector<int>{1, 3, 4, 2, 5}));
    EXPECT_EQ(l.tail, &e.timer);
}
} // namespace
