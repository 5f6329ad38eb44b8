// Stress for TSan/ASan: schedulers destroyed while plain threads arm, reset and stop
// timers on their clocks, cancel contexts whose callbacks are bound to them, and the
// default scheduler adopts and fires what is left. Every callback must run exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "cogo/after_func.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/timer.hpp"
#include "support/watchdog.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;

struct Armed {
  std::vector<cogo::Timer> timers;
  std::vector<cogo::AfterFunc> stops;
  std::vector<cogo::CancelFunc> cancels;
};

cogo::Task<> arm(Armed& a, std::shared_ptr<std::atomic<int>> ran, int n) {
  for (int i = 0; i < n; ++i) {
    a.timers.push_back(cogo::after_func(std::chrono::microseconds(50 * i), [ran] { ran->fetch_add(1); }));
    auto [ctx, cancel] = cogo::with_timeout(cogo::background(), std::chrono::microseconds(30 * i));
    a.stops.push_back(cogo::after_func(ctx, [ran] { ran->fetch_add(1); }));
    a.cancels.push_back(std::move(cancel));
  }
  co_return;
}

TEST(LifetimeStressRegression, DestroyWhileThreadsArmCancelAndFire) {
  cogo::test::Watchdog wd("lifetime race stress", 110s);
  const int rounds = cogo::test::scaled(200);
  constexpr int kN = 20;
  for (int round = 0; round < rounds; ++round) {
    auto ran = std::make_shared<std::atomic<int>>(0);  // late callbacks may outlive the round
    Armed a;
    auto sched = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 2});
    sched->block_on(arm(a, ran, kN));
    std::thread canceller([&] {
      for (int i = kN - 1; i >= 0; --i) {
        a.cancels[i]();
        if (i % 3 == 0) a.timers[i].reset(std::chrono::microseconds(10));  // after it fired or not
      }
    });
    sched.reset();  // concurrently with the cancels and resets
    canceller.join();
    // Each after_func timer runs once, plus once more per reset that re-armed it
    // (reset() on a fired timer arms it again): at least 2 * kN runs.
    ASSERT_TRUE(cogo::test::eventually([&] { return ran->load() >= 2 * kN; }, 20s))
        << "round " << round << ": " << ran->load() << " callbacks ran";
  }
}

}  // namespace
