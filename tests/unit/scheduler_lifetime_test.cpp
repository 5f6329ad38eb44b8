// What outlives a Scheduler: its timers and deadlines keep firing on time, and callbacks
// bound to it run on it while it lives and on the default scheduler after.
#include "cogo/scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "cogo/context.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;
using Clock = std::chrono::steady_clock;

struct Armed {
  std::optional<cogo::Timer> timer;
  cogo::Context ctx;
  std::optional<cogo::CancelFunc> cancel;
};

Task<> arm_inside(Armed& a, std::chrono::milliseconds d) {
  a.timer.emplace(d);
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), d);
  a.ctx = ctx;
  a.cancel.emplace(std::move(cancel));
  co_return;
}

TEST(SchedulerLifetimeTest, TimersAndDeadlinesOutliveTheirScheduler) {
  Armed a;
  const auto start = Clock::now();
  {
    cogo::Scheduler sched({.workers = 2});
    sched.block_on(arm_inside(a, 50ms));
  }  // armed on this scheduler's clock, which is gone now
  ASSERT_TRUE(a.timer->wait_for(5s).has_value());
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_TRUE(a.ctx.wait_for(5s));
  EXPECT_TRUE(a.ctx.err().is(cogo::errc::deadline_exceeded));
  // Reset after the scheduler is gone: it fires again, on time.
  const auto again = Clock::now();
  a.timer->reset(20ms);
  ASSERT_TRUE(a.timer->wait_for(5s).has_value());
  EXPECT_GE(Clock::now() - again, 20ms);
}

Task<cogo::Timer> after_func_inside(std::chrono::milliseconds d, std::atomic<cogo::Scheduler*>& ran_on) {
  co_return cogo::after_func(d, [&ran_on] { ran_on.store(cogo::Scheduler::current()); });
}

TEST(SchedulerLifetimeTest, AnAfterFuncOutlivingItsSchedulerRunsOnTheDefaultOne) {
  // The callback must fire after the scheduler is gone (else running on it is right):
  // with a manual clock, it fires when the test says so.
  cogo::ManualClock clock;
  std::atomic<cogo::Scheduler*> ran_on{nullptr};
  std::optional<cogo::Timer> t;
  {
    cogo::Scheduler sched({.workers = 1, .clock = &clock});
    t.emplace(sched.block_on(after_func_inside(1s, ran_on)));
  }
  clock.advance(1s);
  ASSERT_TRUE(cogo::test::eventually([&] { return ran_on.load() != nullptr; }));
  EXPECT_EQ(ran_on.load(), &cogo::Scheduler::default_scheduler());
}

TEST(SchedulerLifetimeTest, AnAfterFuncOnAnAdoptedClockRunsOnTheDefaultOne) {
  // On the steady clock, whose service the default scheduler adopts; the delay is long
  // enough for the scheduler to be gone first (a slower run is retried, longer).
  for (auto d : {200ms, 800ms, 3000ms}) {
    std::atomic<cogo::Scheduler*> ran_on{nullptr};
    std::optional<cogo::Timer> t;
    const auto start = Clock::now();
    {
      cogo::Scheduler sched({.workers = 1});
      t.emplace(sched.block_on(after_func_inside(d, ran_on)));
    }
    const bool gone_first = Clock::now() - start < d;
    ASSERT_TRUE(cogo::test::eventually([&] { return ran_on.load() != nullptr; }));
    if (!gone_first) continue;
    EXPECT_EQ(ran_on.load(), &cogo::Scheduler::default_scheduler());
    return;
  }
  FAIL() << "the scheduler was never destroyed before its callback's delay passed";
}

// A context callback runs on the scheduler where it was registered, whoever cancels.
Task<cogo::AfterFunc> register_callback(const cogo::Context& ctx, std::atomic<cogo::Scheduler*>& ran_on) {
  co_return cogo::after_func(ctx, [&ran_on] { ran_on.store(cogo::Scheduler::current()); });
}

TEST(SchedulerLifetimeTest, AContextCallbackRunsOnItsSchedulerWhenAThreadCancels) {
  cogo::Scheduler sched({.workers = 2});
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::atomic<cogo::Scheduler*> ran_on{nullptr};
  auto stop = sched.block_on(register_callback(ctx, ran_on));
  cancel();  // from this plain thread
  ASSERT_TRUE(cogo::test::eventually([&] { return ran_on.load() != nullptr; }));
  EXPECT_EQ(ran_on.load(), &sched);
}

Task<cogo::AfterFunc> register_on_timeout(std::atomic<cogo::Scheduler*>& ran_on, cogo::Context& out,
                                          std::optional<cogo::CancelFunc>& cancel_out) {
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 1s);
  out = ctx;
  cancel_out.emplace(std::move(cancel));
  co_return cogo::after_func(ctx, [&ran_on] { ran_on.store(cogo::Scheduler::current()); });
}

TEST(SchedulerLifetimeTest, ACallbackRunsOnItsSchedulerWhenAManualClockAdvances) {
  cogo::ManualClock clock;
  cogo::Scheduler sched({.workers = 1, .clock = &clock});
  std::atomic<cogo::Scheduler*> ran_on{nullptr};
  cogo::Context ctx;
  std::optional<cogo::CancelFunc> cancel;
  auto stop = sched.block_on(register_on_timeout(ran_on, ctx, cancel));
  clock.advance(1s);  // the deadline fires on this thread
  ASSERT_TRUE(cogo::test::eventually([&] { return ran_on.load() != nullptr; }));
  EXPECT_EQ(ran_on.load(), &sched);
}

Task<cogo::Timer> timer_func_inside(std::atomic<cogo::Scheduler*>& ran_on) {
  co_return cogo::after_func(1s, [&ran_on] { ran_on.store(cogo::Scheduler::current()); });
}

TEST(SchedulerLifetimeTest, ATimerCallbackRunsOnItsSchedulerWhenAManualClockAdvances) {
  cogo::ManualClock clock;
  cogo::Scheduler sched({.workers = 1, .clock = &clock});
  std::atomic<cogo::Scheduler*> ran_on{nullptr};
  auto t = sched.block_on(timer_func_inside(ran_on));
  clock.advance(1s);
  ASSERT_TRUE(cogo::test::eventually([&] { return ran_on.load() != nullptr; }));
  EXPECT_EQ(ran_on.load(), &sched);
}

}  // namespace
