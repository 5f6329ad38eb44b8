#include "cogo/manual_clock.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <limits>
#include <stdexcept>
#include <thread>

#include "cogo/context.hpp"
#include "cogo/timer.hpp"

namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, AdvanceFiresInDeadlineOrderWithNowAtEachDeadline) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  const auto start = clock.now();
  cogo::Timer late(30ms), early(10ms), middle(20ms);
  clock.advance(50ms);
  EXPECT_EQ(early.try_wait(), start + 10ms);
  EXPECT_EQ(middle.try_wait(), start + 20ms);
  EXPECT_EQ(late.try_wait(), start + 30ms);
  EXPECT_EQ(clock.now(), start + 50ms);
}

TEST(ManualClockTest, TimeNeverGoesBackwards) {
  cogo::ManualClock clock;
  const auto t0 = clock.now();
  clock.advance(-1s);
  clock.advance_to(t0 - 1h);
  EXPECT_EQ(clock.now(), t0);
  clock.advance_to(t0 + 1s);
  EXPECT_EQ(clock.now(), t0 + 1s);
}

TEST(ManualClockTest, ScopeAppliesToItsThreadOnly) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  auto [mine, c1] = cogo::with_timeout(cogo::background(), 1h);
  EXPECT_EQ(clock.armed_timers(), 1u);
  std::async(std::launch::async, [] {
    auto [theirs, c2] = cogo::with_timeout(cogo::background(), 1h);
    (void)theirs;
  }).get();
  EXPECT_EQ(clock.armed_timers(), 1u);
}

TEST(ManualClockTest, NestedScopesRestoreThePreviousClock) {
  cogo::ManualClock outer, inner;
  cogo::ManualClock::Scope a(outer);
  {
    cogo::ManualClock::Scope b(inner);
    cogo::Timer t(1h);
    EXPECT_EQ(inner.armed_timers(), 1u);
    EXPECT_EQ(outer.armed_timers(), 0u);
  }
  cogo::Timer t(1h);
  EXPECT_EQ(outer.armed_timers(), 1u);
}

TEST(ManualClockTest, TimersMayOutliveTheirClock) {
  cogo::Timer t;
  cogo::Context ctx;
  cogo::CancelFunc cancel;
  {
    cogo::ManualClock clock;
    cogo::ManualClock::Scope use(clock);
    t = cogo::Timer(1h);
    auto r = cogo::with_timeout(cogo::background(), 1h);
    ctx = r.ctx;
    cancel = std::move(r.cancel);
  }
  EXPECT_TRUE(t.stop());
  cancel();
  EXPECT_TRUE(ctx.is_done());
}

TEST(ManualClockTest, AdvanceStopsOneNanosecondShortOfTheEndOfTime) {
  using clk = std::chrono::steady_clock;
  cogo::ManualClock clock;
  clock.advance(std::chrono::hours::max());
  EXPECT_EQ(clock.now(), clk::time_point::max() - 1ns);
  clock.advance(std::chrono::nanoseconds::max());
  clock.advance(std::chrono::duration<double>(std::numeric_limits<double>::infinity()));
  clock.advance_to(clk::time_point::max());
  EXPECT_EQ(clock.now(), clk::time_point::max() - 1ns);
}

TEST(ManualClockTest, AdvanceIgnoresNonPositiveAndRejectsNaN) {
  cogo::ManualClock clock;
  const auto t0 = clock.now();
  clock.advance(std::chrono::nanoseconds::min());
  clock.advance(std::chrono::hours::min());
  clock.advance(std::chrono::duration<double>(-std::numeric_limits<double>::infinity()));
  clock.advance_to(std::chrono::steady_clock::time_point::min());
  EXPECT_EQ(clock.now(), t0);
  EXPECT_THROW(clock.advance(std::chrono::duration<double>(std::nan(""))), std::invalid_argument);
  EXPECT_EQ(clock.now(), t0);
  // A fraction of a nanosecond rounds up, so a timer waiting on it is never cut short.
  clock.advance(std::chrono::duration<double, std::nano>(0.5));
  EXPECT_EQ(clock.now(), t0 + 1ns);
}

TEST(ManualClockTest, TimeAtTheEndStaysThereAndNewDelaysNeverElapse) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  clock.advance(std::chrono::hours::max());
  cogo::Timer later(1ns);
  cogo::Timer now(0s);
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 1s);
  clock.advance(1h);
  EXPECT_FALSE(later.try_wait());
  EXPECT_EQ(now.try_wait(), std::chrono::steady_clock::time_point::max() - 1ns);
  EXPECT_FALSE(ctx.is_done());
  EXPECT_EQ(ctx.deadline(), std::chrono::steady_clock::time_point::max());
  EXPECT_EQ(clock.armed_timers(), 0u);
}

}  // namespace
