// The global run queue when memory runs out: a ring that cannot double keeps every item
// in an overflow list, in order, and hands them all back.
#include "cogo/detail/global_queue.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "support/test_support.hpp"

namespace {

using cogo::detail::GlobalQueue;
using cogo::detail::RunItem;

// Pops everything, in batches of `batch`, and checks that the items come out in the
// order they were pushed.
void expect_fifo(GlobalQueue& q, const std::vector<RunItem>& items, std::size_t batch) {
  std::vector<RunItem*> out(batch);
  std::size_t next = 0;
  while (true) {
    const std::size_t n = q.pop(out.data(), batch);
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_LT(next, items.size());
      ASSERT_EQ(out[i], &items[next]) << "item " << next << " out of order";
      ++next;
    }
  }
  EXPECT_EQ(next, items.size()) << "items lost";
  EXPECT_EQ(q.size(), 0u);
}

TEST(GlobalQueueTest, AFullRingThatCannotGrowKeepsEveryItemInOrder) {
  GlobalQueue q;
  std::vector<RunItem> items(3 * GlobalQueue::kFirstRing + 7);
  std::size_t pushed = 0;
  for (; pushed < GlobalQueue::kFirstRing; ++pushed) {
    RunItem* it = &items[pushed];
    q.push(&it, 1);
  }
  {
    cogo::test::FailAllocation fail(1);  // the ring's doubling
    RunItem* it = &items[pushed++];
    q.push(&it, 1);
    EXPECT_TRUE(fail.fired()) << "the full ring did not try to grow";
  }
  EXPECT_EQ(q.size(), pushed);
  // Memory is back, but the list is not empty: later items queue behind it.
  std::vector<RunItem*> rest;
  for (std::size_t i = pushed; i < items.size(); ++i) rest.push_back(&items[i]);
  q.push(rest.data(), rest.size());
  EXPECT_EQ(q.size(), items.size());
  expect_fifo(q, items, 61);
}

TEST(GlobalQueueTest, GrowsAndWrapsWithoutLosingOrder) {
  GlobalQueue q;
  std::vector<RunItem> items(5 * GlobalQueue::kFirstRing);
  std::vector<RunItem*> out(GlobalQueue::kFirstRing / 2);
  // Move the head off zero, so that the doubling has to unroll a wrapped ring.
  std::vector<RunItem> warm(GlobalQueue::kFirstRing / 2);
  for (auto& w : warm) {
    RunItem* it = &w;
    q.push(&it, 1);
  }
  ASSERT_EQ(q.pop(out.data(), out.size()), warm.size());
  for (auto& it : items) {
    RunItem* p = &it;
    q.push(&p, 1);
  }
  expect_fifo(q, items, 100);
}

}  // namespace
