// An over-aligned T is stored aligned in a channel's buffer (doc/runtime.md), but the
// operations themselves keep a T in the awaiting coroutine's frame: RecvCase holds the
// std::optional<T> a receive fills, SendCase<T, true> the copy of an lvalue sent
// (chan_cases.hpp). Frames come from operator new(size) through the pool
// (promise.hpp: pool_allocate), 16-byte aligned, and g++ 12 lays an alignas(64) member
// of the frame out relative to that: a T is then constructed at a misaligned address
// (undefined behaviour; with a type the compiler copies with aligned vector loads, a
// fault). `co_await ch.recv()` and `co_await ch.send(v)` compile without a word.
//
// Sixteen receivers parked at once (so that their frames sit at different addresses),
// and sixteen lvalue sends through sync_wait: each construction checks its alignment.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "cogo/chan.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "cogo/task.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;

struct alignas(64) Wide {
  static inline std::atomic<int> misplaced{0};
  explicit Wide(int x) noexcept : v(x) { check(); }
  Wide(const Wide& o) noexcept : v(o.v) { check(); }
  Wide(Wide&& o) noexcept : v(o.v) { check(); }
  void check() const noexcept {
    if (reinterpret_cast<std::uintptr_t>(this) % alignof(Wide) != 0) misplaced.fetch_add(1);
  }
  int v;
};

cogo::Task<> receive_one(cogo::Chan<Wide> ch, std::atomic<int>& sum, cogo::WaitGroup& wg) {
  if (auto v = co_await ch.recv()) sum.fetch_add(v->v);
  wg.done();
}

TEST(ReviewChanOverAligned, ValuesInFramesAreConstructedAligned) {
  cogo::test::Watchdog wd("over-aligned", 60s);
  constexpr int kParties = 16;
  cogo::Scheduler s({.workers = 2});
  auto ch = cogo::make_chan<Wide>(1);
  std::atomic<int> sum{0};
  cogo::WaitGroup wg;
  wg.add(kParties);
  Wide::misplaced = 0;
  for (int i = 0; i < kParties; ++i) s.go(receive_one(ch, sum, wg));
  const Wide w(1);
  for (int i = 0; i < kParties; ++i) ASSERT_TRUE(cogo::sync_wait(ch.send(w)));
  s.block_on(wg.wait());
  EXPECT_EQ(sum.load(), kParties);
  EXPECT_EQ(Wide::misplaced.load(), 0)
      << "alignas(64) values constructed at misaligned addresses inside coroutine frames";
}

}  // namespace
