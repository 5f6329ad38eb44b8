// The extremes of every timer function that takes a duration: the largest and smallest
// values, zero, negatives, infinities and NaN. None may overflow (UBSan runs these); a
// non-positive delay is due at once, and a delay that reaches the end of time never fires.
#include "cogo/timer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "cogo/chan.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/select.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
using std::chrono::hours;
using std::chrono::nanoseconds;
using fsec = std::chrono::duration<double>;

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::nan("");

class TimerLimitsTest : public ::testing::Test {
 protected:
  cogo::ManualClock clock_;
  cogo::ManualClock::Scope use_{clock_};
};

TEST_F(TimerLimitsTest, TheLongestDelaysNeverFireEvenAtTheEndOfTime) {
  auto ran = std::make_shared<std::atomic<bool>>(false);
  cogo::Timer a(nanoseconds::max());
  cogo::Timer b(hours::max());
  cogo::Timer c{fsec(kInf)};
  cogo::Timer reset(1s);
  EXPECT_TRUE(reset.reset(hours::max()));
  cogo::Ticker ticker(hours::max());
  cogo::Ticker reset_ticker(1s);
  reset_ticker.reset(fsec(kInf));
  cogo::Timer func = cogo::after_func(hours::max(), [ran] { ran->store(true); });
  EXPECT_EQ(clock_.armed_timers(), 0u);  // a time never reached needs no timer
  clock_.advance(hours::max());
  EXPECT_EQ(clock_.now(), clk::time_point::max() - 1ns);  // time stops short of the end
  const cogo::detail::TimerHandle* handles[] = {&a, &b, &c, &reset, &ticker, &reset_ticker};
  for (const auto* t : handles) EXPECT_FALSE(t->try_wait());
  // Still pending, so stop() reports that it prevented a value, as for any armed timer.
  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
  EXPECT_TRUE(reset.stop());
  EXPECT_TRUE(func.stop());
  EXPECT_FALSE(ran->load());
}

TEST_F(TimerLimitsTest, TheShortestDelaysFireAtOnce) {
  const auto now = clock_.now();
  cogo::Timer a(nanoseconds::min());
  cogo::Timer b(hours::min());
  cogo::Timer c(fsec(-kInf));
  cogo::Timer d(-1s);
  cogo::Timer e(1h);
  EXPECT_TRUE(e.reset(hours::min()));
  for (cogo::Timer* t : {&a, &b, &c, &d, &e}) EXPECT_EQ(t->try_wait(), now);
  EXPECT_EQ(clock_.armed_timers(), 0u);
  auto ran = std::make_shared<std::atomic<int>>(0);
  cogo::Timer f = cogo::after_func(nanoseconds::min(), [ran] { ran->fetch_add(1); });
  cogo::Timer g = cogo::after_func(fsec(-kInf), [ran] { ran->fetch_add(1); });
  EXPECT_TRUE(cogo::test::eventually([&] { return ran->load() == 2; }));
}

TEST_F(TimerLimitsTest, NaNDelaysAreRejected) {
  EXPECT_THROW((void)cogo::Timer(fsec(kNaN)), std::invalid_argument);
  EXPECT_THROW((void)cogo::Ticker(fsec(kNaN)), std::invalid_argument);
  EXPECT_THROW((void)cogo::after_func(fsec(kNaN), [] {}), std::invalid_argument);
  EXPECT_THROW((void)cogo::after(fsec(kNaN)), std::invalid_argument);
  EXPECT_THROW((void)cogo::sleep(fsec(kNaN)), std::invalid_argument);
  EXPECT_THROW((void)cogo::sleep(cogo::background(), fsec(kNaN)), std::invalid_argument);
  cogo::Timer t(1s);
  EXPECT_THROW(t.reset(fsec(kNaN)), std::invalid_argument);
  EXPECT_THROW((void)t.wait_for(fsec(kNaN)), std::invalid_argument);
  cogo::Ticker tk(1s);
  EXPECT_THROW(tk.reset(fsec(kNaN)), std::invalid_argument);
  // The failed calls changed nothing.
  EXPECT_EQ(clock_.armed_timers(), 2u);
  clock_.advance(1s);
  EXPECT_TRUE(t.try_wait());
  EXPECT_TRUE(tk.try_wait());
}

TEST_F(TimerLimitsTest, TickerPeriodsAtTheExtremes) {
  EXPECT_THROW((void)cogo::Ticker(nanoseconds::min()), std::invalid_argument);
  EXPECT_THROW((void)cogo::Ticker(hours::min()), std::invalid_argument);
  EXPECT_THROW((void)cogo::Ticker(fsec(-kInf)), std::invalid_argument);
  EXPECT_THROW((void)cogo::Ticker(fsec(0.0)), std::invalid_argument);
  cogo::Ticker tk(nanoseconds::max());
  EXPECT_THROW(tk.reset(hours::min()), std::invalid_argument);
  EXPECT_THROW(tk.reset(0s), std::invalid_argument);
  // A fraction of a nanosecond is positive: it rounds up to one.
  const auto start = clock_.now();
  cogo::Ticker tiny(std::chrono::duration<double, std::nano>(0.25));
  clock_.advance(1ns);
  EXPECT_EQ(tiny.try_wait(), start + 1ns);
}

TEST_F(TimerLimitsTest, ALongTickerStopsTickingWhereTimeEnds) {
  const hours century(24 * 36525);
  const auto start = clock_.now();
  cogo::Ticker tk(century);
  // Ticks at one and two centuries; the third would come after the end of time.
  clock_.advance(hours::max());
  EXPECT_EQ(tk.try_wait(), start + century);
  EXPECT_FALSE(tk.try_wait());
  EXPECT_EQ(clock_.armed_timers(), 0u);
}

TEST_F(TimerLimitsTest, ATimerDueAtTheLastNanosecondBeforeTheEndFires) {
  const auto last = clk::time_point::max() - 1ns;
  cogo::Timer t(last - clock_.now());
  EXPECT_EQ(clock_.armed_timers(), 1u);
  clock_.advance(hours::max());
  EXPECT_EQ(t.try_wait(), last);
}

TEST(TimerLimitsRealClockTest, WaitForAtTheExtremes) {
  cogo::Timer pending(1h);
  EXPECT_FALSE(pending.wait_for(nanoseconds::min()));
  EXPECT_FALSE(pending.wait_for(hours::min()));
  EXPECT_FALSE(pending.wait_for(fsec(-kInf)));
  EXPECT_FALSE(pending.wait_for(0s));
  // The longest waits last until the value comes; they must not give up at once.
  for (auto wait : {+[](const cogo::Timer& t) { return t.wait_for(hours::max()); },
                    +[](const cogo::Timer& t) { return t.wait_for(nanoseconds::max()); },
                    +[](const cogo::Timer& t) { return t.wait_for(fsec(kInf)); }}) {
    const auto start = clk::now();
    cogo::Timer t(5ms);
    const auto fired = wait(t);
    ASSERT_TRUE(fired.has_value());
    EXPECT_GE(*fired, start + 5ms);
  }
}

// A scheduler on a manual clock, for after(d) and sleep(d), which only tasks await.
class TimerLimitsTaskTest : public ::testing::Test {
 protected:
  // Whether the context's done case (and so every case of the select it is in, which
  // registers under all their locks at once) is registered.
  static bool registered(const cogo::Context& ctx) {
    return static_cast<cogo::detail::CancelNode*>(ctx.node())->link_count() == 1;
  }

  cogo::ManualClock clock_;
  cogo::Scheduler sched_{{.workers = 2, .clock = &clock_}};
};

cogo::Task<> select_on_extremes(cogo::Context ctx, cogo::Chan<std::size_t> out) {
  auto r = co_await cogo::select(ctx.done(), cogo::after(hours::max()),
                                 cogo::after(nanoseconds::max()), cogo::after(fsec(kInf)));
  (void)co_await out.send(r.index());
}

TEST_F(TimerLimitsTaskTest, AfterTheLongestDelaysNeverFires) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto out = cogo::make_chan<std::size_t>(1);
  sched_.go(select_on_extremes(ctx, out));
  ASSERT_TRUE(cogo::test::eventually([&, &c = ctx] { return registered(c); }));
  EXPECT_EQ(clock_.armed_timers(), 0u);
  clock_.advance(hours::max());
  EXPECT_FALSE(out.try_recv());
  cancel();
  EXPECT_EQ(cogo::sync_wait(out.recv()), std::optional<std::size_t>(0));
}

cogo::Task<> sleep_long(cogo::Context ctx, cogo::Chan<cogo::Error> out) {
  cogo::Error e = co_await cogo::sleep(ctx, hours::max());
  (void)co_await out.send(std::move(e));
}

TEST_F(TimerLimitsTaskTest, SleepingTheLongestDelayEndsOnlyWithTheContext) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto out = cogo::make_chan<cogo::Error>(1);
  sched_.go(sleep_long(ctx, out));
  ASSERT_TRUE(cogo::test::eventually([&, &c = ctx] { return registered(c); }));
  clock_.advance(hours::max());
  EXPECT_FALSE(out.try_recv());
  cancel();
  auto err = cogo::sync_wait(out.recv());
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, cogo::errc::canceled);
}

cogo::Task<int> sleep_shortest() {
  co_await cogo::sleep(nanoseconds::min());
  co_await cogo::sleep(hours::min());
  co_await cogo::sleep(fsec(-kInf));
  co_await cogo::sleep(0s);
  cogo::Error e = co_await cogo::sleep(cogo::background(), nanoseconds::min());
  auto never = cogo::make_chan<int>();
  auto r = co_await cogo::select(never.recv(), cogo::after(hours::min()));
  co_return e ? -1 : static_cast<int>(r.index());
}

TEST_F(TimerLimitsTaskTest, TheShortestDelaysEndAtOnce) {
  // No time passes on the manual clock: each of these must be due at once.
  EXPECT_EQ(sched_.block_on(sleep_shortest()), 1);
}

}  // namespace
