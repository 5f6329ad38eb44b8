// Use-after-free: the default scheduler frees an adopted timer service before
// adopt_timers() has finished with it.
//
// ~SchedulerImpl (scheduler.cpp:77-79) sees other references on its timer service and
// calls default.adopt_timers(svc), which pushes svc onto adopted_ under adopted_mu_,
// drops the lock, and only then calls svc->set_driver(this) (scheduler.cpp:130-134).
// In between, the last other reference may go (a Timer destroyed on another thread), and
// the default keeper's plan_sleep (scheduler.cpp:177-183) finds svc with nothing armed
// and `sole_reference()`, and releases it: svc is deleted. set_driver() then locks and
// writes a freed TimerService.
//
// The window is a few instructions wide; this test widens it deterministically by
// wrapping TimerService::set_driver at link time (-Wl,--wrap, see tests/CMakeLists.txt)
// with a pause, which is only what a preemption of the destroying thread at that point
// does. Under ASan the run failed with heap-use-after-free in TimerService::set_driver;
// in the release build the wrapped destructor showed the service freed first. Fixed by
// listing the service and handing it over in one step under the adopting scheduler's
// lock, where its keeper plans. COGO_TEST_NO_PAUSE=1 runs it without the pause.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include "cogo/scheduler.hpp"
#include "cogo/timer.hpp"
#include "support/watchdog.hpp"

#define SET_DRIVER _ZN4cogo6detail12TimerService10set_driverEPNS0_11TimerDriverE
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

namespace {
std::atomic<bool> g_pause{false};
std::atomic<bool> g_entered{false};
std::atomic<bool> g_go_on{false};
std::atomic<void*> g_destroyed{nullptr};      // the last TimerService destroyed
std::atomic<bool> g_used_after_free{false};  // set_driver() called on it
}  // namespace

// Records destroyed services, so that the release build can tell as well as ASan.
#define SERVICE_DTOR _ZN4cogo6detail12TimerServiceD1Ev
extern "C" void CAT(__real_, SERVICE_DTOR)(void* self);
extern "C" void CAT(__wrap_, SERVICE_DTOR)(void* self) {
  g_destroyed.store(self);
  CAT(__real_, SERVICE_DTOR)(self);
}

extern "C" void CAT(__real_, SET_DRIVER)(void* self, void* driver);
extern "C" void CAT(__wrap_, SET_DRIVER)(void* self, void* driver) {
  if (g_pause.exchange(false)) {
    g_entered.store(true);
    while (!g_go_on.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (g_destroyed.load() == self) g_used_after_free.store(true);
  }
  CAT(__real_, SET_DRIVER)(self, driver);
}

namespace {

using namespace std::chrono_literals;

cogo::Task<cogo::Timer> make_stopped_timer() {
  cogo::Timer t(1h);  // on this scheduler's clock: holds a reference on its service
  t.stop();           // nothing armed
  co_return t;
}

cogo::Task<> nap() {
  (void)co_await cogo::sleep(2ms);  // arms a timer on the default clock: the keeper re-plans
}

TEST(AdoptTimersRegression, AnAdoptedServiceIsNotFreedBeforeAdoptionFinishes) {
  cogo::test::Watchdog wd("adopt_timers vs plan_sleep release", 60s);
  const bool pause = std::getenv("COGO_TEST_NO_PAUSE") == nullptr;
  cogo::run(nap());  // the default scheduler exists and has a keeper
  auto* sched = new cogo::Scheduler({.workers = 1});
  std::optional<cogo::Timer> timer = sched->block_on(make_stopped_timer());
  g_pause.store(pause);
  std::thread destroyer([sched] { delete sched; });  // its service is adopted: a Timer refers to it
  if (pause) {
    while (!g_entered.load()) std::this_thread::sleep_for(1ms);
  }
  timer.reset();  // the last reference besides the adopted one
  // The keeper plans while set_driver() is paused: before the fix it released (freed) the
  // service there; with it, planning waits for the adoption to finish. The naps run on
  // a thread of their own, since they wait for that planning; they get 200 ms to free
  // the service if they can (there is no event for "could not").
  std::thread napper([] {
    for (int i = 0; i < 5; ++i) cogo::run(nap());
  });
  std::this_thread::sleep_for(200ms);
  g_go_on.store(true);
  destroyer.join();  // before the fix: set_driver() on the freed service
  napper.join();
  EXPECT_FALSE(g_used_after_free.load())
      << "TimerService::set_driver() ran on a service the default keeper had already deleted";
  for (int i = 0; i < 5; ++i) cogo::run(nap());
}

}  // namespace
