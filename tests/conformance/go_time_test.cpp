// Go 1.23's src/time tests (sleep_test.go, tick_test.go) that concern timers used from
// threads, ported with their Go names. Receiving from t.C is wait()/try_wait(); tests that
// need select come with the runtime's select. Timing bounds are Go's.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "cogo/manual_clock.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

TEST(GoTime, TestAfterFunc) {
  // A callback that re-arms itself ten times, then signals. Its state is shared with the
  // callbacks, which may still be returning when the test ends.
  struct State {
    std::atomic<int> i{10};
    std::mutex mu;
    std::vector<cogo::Timer> timers;  // the handles keep the chain armed
    cogo::test::Signal done;
    std::function<void()> step;
  };
  auto st = std::make_shared<State>();
  st->step = [weak = std::weak_ptr<State>(st)] {
    auto s = weak.lock();
    if (!s) return;
    if (--s->i >= 0) {
      cogo::Timer t = cogo::after_func(0s, s->step);
      std::lock_guard g(s->mu);
      s->timers.push_back(std::move(t));
    } else {
      s->done.set();
    }
  };
  {
    cogo::Timer first = cogo::after_func(0s, st->step);
    std::lock_guard g(st->mu);
    st->timers.push_back(std::move(first));
  }
  EXPECT_TRUE(st->done.wait_for());
}

TEST(GoTime, TestAfter) {
  const auto delay = 100ms;
  const auto start = clk::now();
  cogo::Timer t(delay);
  const auto end = t.wait();
  EXPECT_GE(clk::now() - start, delay);
  EXPECT_GE(end, start + delay);
}

TEST(GoTime, TestAfterTick) {
  const int count = 10;
  const auto delta = 10ms;
  const auto t0 = clk::now();
  for (int i = 0; i < count; ++i) cogo::Timer(delta).wait();
  const auto d = clk::now() - t0;
  EXPECT_GE(d, delta * count * 9 / 10);
}

TEST(GoTime, TestAfterStop) {
  // Deterministic on a manual clock: Go retries five times against real-time flakiness.
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  cogo::Timer noise = cogo::after_func(100ms, [] {});
  cogo::Timer t0(50ms);
  std::atomic<bool> c1{false};
  cogo::Timer t1 = cogo::after_func(150ms, [&] { c1 = true; });
  cogo::Timer c2(200ms);
  ASSERT_TRUE(t0.stop()) << "failed to stop event 0";
  ASSERT_TRUE(t1.stop()) << "failed to stop event 1";
  clock.advance(200ms);
  ASSERT_TRUE(c2.try_wait());
  EXPECT_FALSE(t0.try_wait()) << "event 0 was not stopped";
  EXPECT_FALSE(t1.stop()) << "Stop returned true twice";
  EXPECT_FALSE(c1) << "event 1 was not stopped";
}

TEST(GoTime, TestAfterQueuing) {
  const int slots[] = {5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0};
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto delta = std::chrono::milliseconds(20 + attempt * 50);
    std::mutex mu;
    std::vector<std::pair<int, clk::time_point>> results;
    const auto t0 = clk::now();
    std::vector<std::thread> threads;
    for (int slot : slots) {
      threads.emplace_back([&, slot, t = std::make_shared<cogo::Timer>(slot * delta)] {
        const auto at = t->wait();
        std::lock_guard g(mu);
        results.emplace_back(slot, at);
      });
    }
    for (auto& t : threads) t.join();
    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    bool ok = true;
    for (std::size_t i = 1; i < results.size(); ++i) ok &= results[i].first >= results[i - 1].first;
    for (const auto& [slot, at] : results) {
      const auto dt = at - t0;
      const auto target = slot * delta;
      ok &= dt >= target - delta / 2 && dt <= target + delta * 10;
    }
    if (ok) return;
  }
  ADD_FAILURE() << "timers fired out of order or off time in five attempts";
}

TEST(GoTime, TestTimerStopStress) {
  // 100 after_func timers, each stopped halfway through its time; none may fire.
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  std::atomic<int> fired{0};
  std::vector<cogo::Timer> timers;
  for (int i = 0; i < 100; ++i) timers.push_back(cogo::after_func(2s, [&] { ++fired; }));
  clock.advance(1s);
  std::vector<std::thread> stoppers;
  for (auto& t : timers) stoppers.emplace_back([&t] { EXPECT_TRUE(t.stop()); });
  for (auto& s : stoppers) s.join();
  clock.advance(2s);
  EXPECT_EQ(clock.armed_timers(), 0u);
  EXPECT_EQ(fired.load(), 0);
}

TEST(GoTime, TestReset) {
  // Go's testReset with a manual clock instead of growing real durations.
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  const auto d = std::chrono::microseconds(1000);
  cogo::Timer t0(d);
  clock.advance(d / 2);
  EXPECT_TRUE(t0.reset(d * 2)) << "resetting unfired timer returned false";
  clock.advance(d * 2 - d / 2);
  EXPECT_FALSE(t0.try_wait()) << "timer fired early";
  clock.advance(d);
  EXPECT_TRUE(t0.try_wait()) << "reset timer did not fire";
  EXPECT_FALSE(t0.reset(0s)) << "resetting expired timer returned true";
}

TEST(GoTime, TestOverflowSleep) {
  const auto big = std::chrono::nanoseconds::max();
  {
    cogo::Timer huge(big);
    EXPECT_FALSE(huge.wait_for(25ms)) << "big timeout fired";
    cogo::Timer hours(std::chrono::hours::max());  // saturates, does not wrap
    EXPECT_FALSE(hours.try_wait());
  }
  cogo::Timer neg(std::chrono::nanoseconds::min());
  EXPECT_TRUE(neg.wait_for(1s)) << "negative timeout didn't fire";
}

TEST(GoTime, TestIssue5745) {
  // Misusing an empty timer must not leave the timer service locked for others.
  cogo::Ticker ticker(1h);
  cogo::Timer empty;
  EXPECT_THROW(empty.stop(), cogo::usage_error);
  ticker.stop();
  cogo::Timer t(1ns);
  EXPECT_TRUE(t.wait_for(10s));
}

// Go panics "called on uninitialized Timer"; cogo throws usage_error saying so.
TEST(GoTime, TestZeroTimerResetPanics) {
  cogo::Timer tr;
  EXPECT_THROW(tr.reset(1ns), cogo::usage_error);
}

TEST(GoTime, TestZeroTimerStopPanics) {
  cogo::Timer tr;
  EXPECT_THROW(tr.stop(), cogo::usage_error);
}

TEST(GoTime, TestZeroTimer) {
  const int n = cogo::test::scaled(100000);
  for (int i = 0; i < n; ++i) {
    const auto s = clk::now();
    cogo::Timer ti(0s);
    ASSERT_TRUE(ti.wait_for(2s)) << "a zero timer was missed at iteration " << i;
    ASSERT_LT(clk::now() - s, 2s);
  }
  // impl=cache: one timer reset to zero again and again.
  cogo::Timer reused(1h);
  for (int i = 0; i < n / 10; ++i) {
    reused.reset(0s);
    ASSERT_TRUE(reused.wait_for(2s)) << "a reset zero timer was missed at iteration " << i;
  }
}

TEST(GoTime, TestTimerModifiedEarlier) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  int fail = 0;
  for (int i = 0; i < 1000; ++i) {
    cogo::Timer timer(1h);
    for (int j = 0; j < 10; ++j) {
      if (!timer.stop()) (void)timer.try_wait();
      timer.reset(-1s);  // in the past
    }
    clock.advance(1ns);
    if (!timer.try_wait()) ++fail;
  }
  EXPECT_EQ(fail, 0);
}

// When a timer's fire races its stop or reset, the result says whether a value can be
// received: false means one is there (Go issue #69312).
void test_stop_reset_result(bool test_stop) {
  const int n = cogo::test::scaled(50);
  std::vector<std::thread> threads;
  std::atomic<int> hung{0};
  for (int g = 0; g < 8; ++g) {
    threads.emplace_back([&] {
      for (int j = 0; j < n; ++j) {
        cogo::Timer t1(1ms), t2(1ms);
        (void)t1.wait();
        const bool stopped = test_stop ? t2.stop() : t2.reset(1h);
        if (!stopped && !t2.wait_for(10s)) ++hung;
        if (stopped && t2.try_wait()) ++hung;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(hung.load(), 0);
}

TEST(GoTime, TestStopResult) { test_stop_reset_result(true); }
TEST(GoTime, TestResetResult) { test_stop_reset_result(false); }

TEST(GoTime, TestMultiWakeupTimer) {
  cogo::Timer timer(1ns);
  std::vector<std::thread> threads;
  const int n = cogo::test::scaled(10000);
  for (unsigned g = 0; g < std::max(2u, std::thread::hardware_concurrency()); ++g) {
    threads.emplace_back([&] {
      for (int i = 0; i < n; ++i) {
        (void)timer.try_wait();
        timer.reset(1ns);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(timer.wait_for(10s));
}

TEST(GoTime, TestTicker) {
  // Half the ticks at delta, half at 2*delta; Go's 30% slack. Real time, retried once.
  for (auto delta : {20ms, 100ms}) {
    const int count = 10;
    cogo::Ticker ticker(delta);
    const auto t0 = clk::now();
    for (int i = 0; i < count / 2; ++i) (void)ticker.wait();
    ticker.reset(delta * 2);
    for (int i = 0; i < count - count / 2; ++i) (void)ticker.wait();
    ticker.stop();
    const auto dt = clk::now() - t0;
    const auto target = 3 * delta * (count / 2);
    const auto slop = target * 3 / 10;
    if (dt < target - slop || dt > target + slop) continue;
    EXPECT_FALSE(ticker.wait_for(2 * delta)) << "Ticker did not shut down";
    return;
  }
  ADD_FAILURE() << "ticker periods were off in both attempts";
}

TEST(GoTime, TestTeardown) {
  for (int i = 0; i < 3; ++i) {
    cogo::Ticker ticker(20ms);
    (void)ticker.wait();
    ticker.stop();
  }
}

TEST(GoTime, TestNewTickerLtZeroDuration) {
  EXPECT_THROW((void)cogo::Ticker(-1ns), std::invalid_argument);
}

TEST(GoTime, TestTickerResetLtZeroDuration) {
  cogo::Ticker tk(1s);
  EXPECT_THROW(tk.reset(0s), std::invalid_argument);
}

// TestChan without select: after Stop or Reset no stale value is ever received.
TEST(GoTime, TestChan) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  cogo::Timer tim(10000s);
  EXPECT_FALSE(tim.try_wait());
  tim.reset(1ms);
  clock.advance(1ms);
  EXPECT_TRUE(tim.try_wait());
  EXPECT_FALSE(tim.try_wait()) << "extra tick";
  tim.reset(1ms);
  clock.advance(1ms);
  tim.reset(10000s);  // fired but unreceived: reset must drop it
  EXPECT_FALSE(tim.try_wait()) << "stale value after Reset";
  tim.reset(1ms);
  clock.advance(1ms);
  tim.stop();
  EXPECT_FALSE(tim.try_wait()) << "stale value after Stop";
  tim.reset(1ms);
  clock.advance(1ms);
  EXPECT_TRUE(tim.try_wait());

  cogo::Ticker tk(10000s);
  tk.reset(1ms);
  clock.advance(1ms);
  tk.reset(10000s);
  EXPECT_FALSE(tk.try_wait()) << "stale tick after Reset";
  tk.reset(1ms);
  clock.advance(1ms);
  tk.stop();
  EXPECT_FALSE(tk.try_wait()) << "stale tick after Stop";
  clock.advance(1h);
  EXPECT_FALSE(tk.try_wait()) << "tick after Stop";
}

}  // namespace
