#include "cogo/timer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include "cogo/manual_clock.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;

// A pending timer is one pooled block; up to 56 bytes it takes one 64-byte malloc chunk.
static_assert(sizeof(cogo::detail::TimerState) <= 56, "a pending timer must fit one 64-byte malloc chunk");
static_assert(sizeof(cogo::Timer) == sizeof(void*));

class TimerTest : public ::testing::Test {
 protected:
  cogo::ManualClock clock_;
  cogo::ManualClock::Scope use_{clock_};
};

TEST_F(TimerTest, FiresOnceAndDeliversItsTime) {
  const auto start = clock_.now();
  cogo::Timer t(100ms);
  EXPECT_FALSE(t.try_wait());
  clock_.advance(99ms);
  EXPECT_FALSE(t.try_wait());
  clock_.advance(1ms);
  const auto v = t.try_wait();
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, start + 100ms);
  EXPECT_FALSE(t.try_wait());
  EXPECT_EQ(clock_.armed_timers(), 0u);
}

TEST_F(TimerTest, StopReportsWhetherAValueCouldStillBeReceived) {
  cogo::Timer armed(10ms);
  EXPECT_TRUE(armed.stop());
  EXPECT_FALSE(armed.stop());
  clock_.advance(20ms);
  EXPECT_FALSE(armed.try_wait());

  cogo::Timer fired(10ms);
  clock_.advance(10ms);
  EXPECT_TRUE(fired.stop());  // fired, value not received: stop discards it
  EXPECT_FALSE(fired.try_wait());

  cogo::Timer received(10ms);
  clock_.advance(10ms);
  EXPECT_TRUE(received.try_wait());
  EXPECT_FALSE(received.stop());
}

TEST_F(TimerTest, ResetDropsTheValueOfTheEarlierSetting) {
  const auto start = clock_.now();
  cogo::Timer t(10ms);
  clock_.advance(10ms);
  EXPECT_TRUE(t.reset(50ms));  // fired and not received
  EXPECT_FALSE(t.try_wait());  // no stale value
  clock_.advance(49ms);
  EXPECT_FALSE(t.try_wait());
  clock_.advance(1ms);
  ASSERT_EQ(t.try_wait(), start + 60ms);
  EXPECT_FALSE(t.reset(5ms));  // received: not active
  EXPECT_EQ(clock_.armed_timers(), 1u);
}

TEST_F(TimerTest, ResetToAnEarlierTimeFiresEarlier) {
  const auto start = clock_.now();
  cogo::Timer t(1h);
  EXPECT_TRUE(t.reset(1ms));
  clock_.advance(1ms);
  EXPECT_EQ(t.try_wait(), start + 1ms);
}

TEST_F(TimerTest, NonPositiveDurationsFireAtOnce) {
  cogo::Timer zero(0s);
  cogo::Timer negative(-5s);
  clock_.advance(0ns);  // no time passes, yet both are due
  clock_.advance(1ns);
  EXPECT_TRUE(zero.try_wait());
  EXPECT_TRUE(negative.try_wait());
}

TEST_F(TimerTest, TickerKeepsOneTickForASlowReceiver) {
  const auto start = clock_.now();
  cogo::Ticker tk(10ms);
  clock_.advance(35ms);  // ticks at 10, 20, 30: one kept, two dropped
  EXPECT_EQ(tk.try_wait(), start + 10ms);
  EXPECT_FALSE(tk.try_wait());
  clock_.advance(5ms);
  EXPECT_EQ(tk.try_wait(), start + 40ms);
  tk.reset(100ms);
  clock_.advance(99ms);
  EXPECT_FALSE(tk.try_wait());
  clock_.advance(1ms);
  EXPECT_EQ(tk.try_wait(), start + 140ms);
  tk.stop();
  clock_.advance(1h);
  EXPECT_FALSE(tk.try_wait());
  EXPECT_EQ(clock_.armed_timers(), 0u);
}

TEST_F(TimerTest, TickerRejectsNonPositivePeriods) {
  EXPECT_THROW((void)cogo::Ticker(0s), std::invalid_argument);
  EXPECT_THROW((void)cogo::Ticker(-1ns), std::invalid_argument);
  cogo::Ticker tk(1s);
  EXPECT_THROW(tk.reset(0s), std::invalid_argument);
  clock_.advance(1s);
  EXPECT_TRUE(tk.try_wait());  // the failed reset changed nothing
}

TEST_F(TimerTest, EmptyTimersRefuseUseWithAUsageError) {
  cogo::Timer t;
  EXPECT_THROW(t.stop(), cogo::usage_error);
  EXPECT_THROW(t.reset(1s), cogo::usage_error);
  EXPECT_THROW((void)t.try_wait(), cogo::usage_error);
  EXPECT_THROW((void)t.wait(), cogo::usage_error);
  cogo::Ticker tk;
  EXPECT_THROW(tk.stop(), cogo::usage_error);
  try {
    t.stop();
  } catch (const cogo::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("empty Timer"), std::string::npos);
  }
}

TEST_F(TimerTest, DestroyingATimerDisarmsIt) {
  { cogo::Timer t(1h); cogo::Ticker tk(1s); EXPECT_EQ(clock_.armed_timers(), 2u); }
  EXPECT_EQ(clock_.armed_timers(), 0u);
}

TEST_F(TimerTest, MovedTimerKeepsItsState) {
  cogo::Timer a(10ms);
  cogo::Timer b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  clock_.advance(10ms);
  EXPECT_TRUE(b.try_wait());
}

TEST_F(TimerTest, AfterFuncRunsOnTheExecutorAndCanBeRescheduled) {
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto ran_on = std::make_shared<std::atomic<std::thread::id>>();
  cogo::Timer t = cogo::after_func(10ms, [=] {
    ran_on->store(std::this_thread::get_id());
    runs->fetch_add(1);
  });
  clock_.advance(10ms);
  ASSERT_TRUE(cogo::test::eventually([&] { return runs->load() == 1; }));
  EXPECT_NE(ran_on->load(), std::this_thread::get_id());
  EXPECT_FALSE(t.stop());  // already started
  EXPECT_FALSE(t.reset(10ms));
  clock_.advance(10ms);
  EXPECT_TRUE(cogo::test::eventually([&] { return runs->load() == 2; }));
  EXPECT_FALSE(t.reset(10ms));  // started again: not active
  EXPECT_TRUE(t.stop());        // armed by the reset
  EXPECT_FALSE(t.stop());
  clock_.advance(1h);
  EXPECT_EQ(clock_.armed_timers(), 0u);
}

TEST(TimerRealClockTest, WaitBlocksUntilTheTimerFires) {
  const auto start = std::chrono::steady_clock::now();
  cogo::Timer t(5ms);
  const auto fired = t.wait();
  EXPECT_GE(fired, start + 5ms);
  EXPECT_GE(std::chrono::steady_clock::now(), start + 5ms);
}

TEST(TimerRealClockTest, WaitForTimesOutOnALongTimer) {
  cogo::Timer t(1h);
  EXPECT_FALSE(t.wait_for(5ms));
  EXPECT_TRUE(t.stop());
}

TEST(TimerRealClockTest, AnotherThreadReceivesTheValue) {
  cogo::Timer t(5ms);
  auto got = std::async(std::launch::async, [&] { return t.wait_for(10s).has_value(); });
  EXPECT_TRUE(got.get());
  EXPECT_FALSE(t.try_wait());  // one value, one receiver
}

}  // namespace
