// Lock-order inversion between the default scheduler firing adopted timer services and
// diagnostics that walk the timer services.
//
//   fire path:  SchedulerImpl::fire_timers holds adopted_mu_ (scheduler.cpp:154) while
//               TimerService::run_due fires an after_func timer -> TimerState::start_func
//               -> post() -> post_home() takes the scheduler list lock (registry.cpp:53),
//               because the callback's home is the destroyed scheduler.
//   diag path:  diag::snapshot() -> for_each_timer_service -> for_each_scheduler holds the
//               list lock (registry.cpp:29) -> for_each_timer_service_here takes
//               adopted_mu_ (scheduler_impl.hpp: for_each_timer_service_here).
//
// adopted_mu_ -> list lock against list lock -> adopted_mu_: a deadlock. The same holds
// for diag leak checks (leak_check.cpp:31).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "cogo/diag/metrics.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/timer.hpp"
#include "support/watchdog.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;

cogo::Task<> arm_many(int n, std::chrono::milliseconds d, std::vector<cogo::Timer>& out,
                      std::atomic<int>& fired) {
  for (int i = 0; i < n; ++i) out.push_back(cogo::after_func(d, [&fired] { fired.fetch_add(1); }));
  co_return;
}

TEST(AdoptedTimersRegression, FiringAdoptedAfterFuncsWhileTakingASnapshotDoesNotDeadlock) {
  cogo::test::Watchdog wd("adopted after_func fires vs diag::snapshot()", 60s);
  std::atomic<bool> stop{false};
  // COGO_TEST_NO_SNAPSHOT=1: the control run, without the diagnostics thread.
  const bool control = std::getenv("COGO_TEST_NO_SNAPSHOT") != nullptr;
  std::thread snap([&] {
    while (!control && !stop.load()) (void)cogo::diag::snapshot();
  });
  constexpr int kTimers = 2000;
  for (int round = 0; round < 10; ++round) {
    std::atomic<int> fired{0};
    std::vector<cogo::Timer> timers;
    timers.reserve(kTimers);
    {
      cogo::Scheduler s({.workers = 1});
      s.block_on(arm_many(kTimers, 20ms, timers, fired));
    }  // the armed timers' service is adopted by the default scheduler
    if (!cogo::test::eventually([&] { return fired.load() == kTimers; }, 10s)) {
      // The firing worker and the snapshot thread wait for each other's lock for ever.
      std::fprintf(stderr, "round %d: %d of %d after_func callbacks ran in 10 s: deadlock\n", round,
                   fired.load(), kTimers);
      std::fflush(stderr);
      std::_Exit(2);
    }
  }
  stop.store(true);
  snap.join();
}

}  // namespace
