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

Task<cogo::Timer> after_func_inside(std::atomic<cogo::Scheduler*>& ran_on) {
  co_return cogo::after_func(30ms, [&ran_on] { ran_on.store(cogo::Scheduler::current()); });
}

TEST(SchedulerLifetimeTest, AnAfterFuncOutlivingItsSchedulerRunsOnTheDefaultOne) {
  std::atomic<cogo::Scheduler*> ran_on{nullptr};
  std::optional<cogo::Timer> t;
  {
    cogo::Scheduler sched({.workers = 1});
    t.emplace(sched.block_on(after_func_inside(ran_on)));
  }
  ASSERT_TRUE(cogo::test::eventually([&] { return ran_on.load() != nullptr; }));
  EXPECT_EQ(ran_on.load(), &cogo::Scheduler::default_scheduler());
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
