// ManualClock: concurrent advances move time backwards.
//
// TimerService::advance_manual (src/time/timer_service.cpp:183-198) moves the manual
// clock with a load and a separate store: `if (to > now.load()) now.store(to)` (and the
// same for each deadline in the loop). Two threads advancing at once (the header says
// every member is safe from any thread at once) can both load the old time, and the one
// that stores last wins even when its target is the earlier one: a thread whose
// advance_to(t) has returned then reads a now() before t, and a timer that fired at t
// is seen by a clock that has not reached it. Needs a CAS (fetch-max) loop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cogo/manual_clock.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;

TEST(ManualClockRegression, ConcurrentAdvancesNeverMoveTimeBackwards) {
  cogo::test::Watchdog wd("manual clock race", 120s);
  cogo::ManualClock clock;
  std::atomic<bool> stop{false};
  std::atomic<long> regressions{0};
  std::atomic<long> worst_ns{0};
  std::atomic<int> ready{0};
  const auto until = std::chrono::steady_clock::now() + 10s;
  auto note = [&](std::chrono::nanoseconds back) {
    regressions.fetch_add(1);
    long w = worst_ns.load();
    while (back.count() > w && !worst_ns.compare_exchange_weak(w, back.count())) {
    }
    if (regressions.load() >= 3) stop.store(true);
  };
  auto start = [&] {
    ready.fetch_add(1);
    while (ready.load() < 3) std::this_thread::yield();
  };
  // Two advancers, each a little past the time it reads (by 1 ns or 2 ns), each checking
  // that its own advance held.
  auto advancer = [&](int step) {
    start();
    for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      if ((i & 0xfff) == 0 && std::chrono::steady_clock::now() > until) break;
      const auto target = clock.now() + std::chrono::nanoseconds(step);
      clock.advance_to(target);
      const auto now = clock.now();
      if (now < target) note(target - now);
    }
  };
  // An observer: time read on one thread must never decrease.
  auto observer = [&] {
    start();
    auto last = clock.now();
    for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      if ((i & 0xfff) == 0 && std::chrono::steady_clock::now() > until) break;
      const auto now = clock.now();
      if (now < last) note(last - now);
      last = now;
    }
  };
  std::thread a(advancer, 1);
  std::thread b(advancer, 2);
  std::thread c(observer);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(regressions.load(), 0) << "the manual clock moved backwards, by up to "
                                   << worst_ns.load() << " ns";
}

}  // namespace
