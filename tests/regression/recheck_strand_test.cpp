// A lost wake-up: work found by the recheck after announce() wakes nobody, so a second
// item waits behind a long first one while another worker sleeps idle.
//
// worker_main (scheduler.cpp:285-298): announce() turns a spinner into an idle worker
// (clearing Slot::spinning), then the recheck finds work, and found_work() does nothing
// because the worker is no longer counted spinning. But notifiers that ran while it was
// still spinning saw spin_count > 0 and woke nobody (idle.cpp:15), relying on that
// spinner (I1: "or sees a spinner that must recheck"; I2 says the last spinner to find
// work calls notify_work — the recheck path is not covered). pop_global also moves the
// rest of its batch into the local queue without a notify (queues.cpp:56-63). Go's
// findRunnable, after dropping spinning, re-becomes spinning when the recheck finds work
// and so calls wakep().
//
// The window (a push between the spinner's last look and its announce) is widened by
// wrapping IdleSet::announce at link time with a pause before the real call — what a
// preemption of the worker there does. Two workers: one asleep, the other paused as the
// last spinner. Two tasks are spawned from outside: a 60 ms CPU loop, then one that
// records its start. Both notifies see the spinner and wake nobody; the spinner's recheck
// takes both (n = size/workers + 1 = 2), runs the loop, and the second task waits the
// whole 60 ms while the other worker sleeps. COGO_TEST_NO_PAUSE=1 is the control.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "cogo/detail/idle.hpp"
#include "cogo/scheduler.hpp"
#include "support/watchdog.hpp"

#define ANNOUNCE _ZN4cogo6detail7IdleSet8announceERNS1_4SlotE
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

namespace {
std::atomic<bool> g_arm{false};
std::atomic<bool> g_paused{false};
std::atomic<bool> g_resume{false};
}  // namespace

extern "C" void CAT(__real_, ANNOUNCE)(cogo::detail::IdleSet* self, cogo::detail::IdleSet::Slot& s);
extern "C" void CAT(__wrap_, ANNOUNCE)(cogo::detail::IdleSet* self, cogo::detail::IdleSet::Slot& s) {
  // The last spinner, the other worker in the idle set.
  if (g_arm.load() && s.spinning && self->spinning() == 1 && self->idle() == 1 &&
      g_arm.exchange(false)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the other one parks
    g_paused.store(true);
    while (!g_resume.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  CAT(__real_, ANNOUNCE)(self, s);
}

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

cogo::Task<> trivial() { co_return; }

cogo::Task<> cpu_loop(std::chrono::milliseconds d, std::atomic<int>& done) {
  const auto end = Clock::now() + d;
  while (Clock::now() < end) {
  }
  done.fetch_add(1);
  co_return;
}

cogo::Task<> record_start(Clock::time_point pushed, std::atomic<long long>& latency_us,
                          std::atomic<int>& done) {
  latency_us.store(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - pushed).count());
  done.fetch_add(1);
  co_return;
}

TEST(IdleRegression, WorkFoundByTheRecheckDoesNotStrandASecondItemWhileAWorkerSleeps) {
  cogo::test::Watchdog wd("recheck strand", 60s);
  const bool pause = std::getenv("COGO_TEST_NO_PAUSE") == nullptr;
  cogo::Scheduler s({.workers = 2});
  bool staged = !pause;
  for (int attempt = 0; attempt < 50 && !staged; ++attempt) {
    std::this_thread::sleep_for(20ms);  // both workers asleep
    g_paused.store(false);
    g_arm.store(true);
    s.go(trivial());  // wakes a worker; its chain ends with one spinner announcing last
    const auto until = Clock::now() + 500ms;
    while (!g_paused.load() && Clock::now() < until) std::this_thread::sleep_for(100us);
    staged = g_paused.load();
    g_arm.store(false);
  }
  ASSERT_TRUE(staged) << "could not stage a paused last spinner with the other worker idle";
  std::atomic<int> done{0};
  std::atomic<long long> latency_us{-1};
  const auto pushed = Clock::now();
  s.go(cpu_loop(60ms, done));
  s.go(record_start(pushed, latency_us, done));
  g_resume.store(true);
  while (done.load() < 2) std::this_thread::sleep_for(1ms);
  EXPECT_LT(latency_us.load(), 30'000)
      << "the second task waited " << latency_us.load() / 1000
      << " ms behind a CPU loop while the other worker slept";
}

}  // namespace
