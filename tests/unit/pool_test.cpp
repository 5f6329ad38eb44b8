#include "cogo/detail/pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace {

using cogo::detail::pool_allocate;
using cogo::detail::pool_free;
using cogo::detail::tls_pool;

#if defined(COGO_NO_POOL)
TEST(PoolTest, DisabledUnderSanitizers) { GTEST_SKIP() << "built with COGO_NO_POOL"; }
#else

constexpr std::size_t kSize = 200;  // a size class no other test in this binary uses

// One thread allocates what another frees, as a spawning worker and the worker that
// finishes the tasks do: the freed blocks must come back to the allocating thread in
// batches instead of every allocation going to operator new.
TEST(PoolTest, BlocksFreedOnAnotherThreadComeBackThroughTheDepot) {
  constexpr int kBlocks = 4096;
  constexpr int kRounds = 8;
  unsigned long long misses_after_first_round = 0;
  unsigned long long misses_at_end = 0;
  std::thread allocator([&] {
    for (int round = 0; round < kRounds; ++round) {
      std::vector<void*> blocks(kBlocks);
      for (auto& b : blocks) b = pool_allocate(kSize);
      // Another thread frees them all.
      std::thread freer([&blocks] {
        for (void* b : blocks) pool_free(b, kSize);
      });
      freer.join();
      if (round == 0) misses_after_first_round = tls_pool.misses;
    }
    misses_at_end = tls_pool.misses;
  });
  allocator.join();
  // The first round had nothing to reuse.
  EXPECT_EQ(misses_after_first_round, static_cast<unsigned long long>(kBlocks));
  // Later rounds reuse the first round's blocks through the depot, except what a
  // freeing thread keeps in its own cache and returns to the allocator when it exits.
  const unsigned long long later = misses_at_end - misses_after_first_round;
  EXPECT_LT(later, static_cast<unsigned long long>(kBlocks) * (kRounds - 1) / 4)
      << "blocks freed on another thread did not come back";
}

TEST(PoolTest, ABlockIsNeverHandedOutTwice) {
  // Blocks cycled through caches and the depot from several threads stay distinct.
  constexpr int kThreads = 4;
  constexpr int kBlocks = 2000;
  std::vector<std::thread> threads;
  std::vector<std::vector<void*>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&got, t] {
      for (int round = 0; round < 20; ++round) {
        std::vector<void*> mine(kBlocks);
        for (auto& b : mine) {
          b = pool_allocate(kSize);
          *static_cast<int*>(b) = t;  // scribble: a block shared by two threads would show
        }
        for (void* b : mine) EXPECT_EQ(*static_cast<int*>(b), t);
        for (void* b : mine) pool_free(b, kSize);
      }
      for (int i = 0; i < kBlocks; ++i) got[t].push_back(pool_allocate(kSize));
    });
  }
  for (auto& th : threads) th.join();
  std::vector<void*> all;
  for (auto& v : got) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  for (void* b : all) ::operator delete(b);
}

#endif

}  // namespace
