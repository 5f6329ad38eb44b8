// after(d) / sleep(d): when the timer heap cannot grow, the timeout must not be dropped
// silently, leaving the wait with no end.
//
// AfterCase::enqueue arms its entry with TimerService::arm, whose heap push_back may
// throw bad_alloc. The case used to catch it and carry on unarmed, so co_await sleep(d)
// under memory pressure never returned and a select's after(d) never fired. It now
// fires at once (with one line on stderr). Here a select of after(10ms) and a channel
// runs on a ManualClock with the n-th allocation failing, walking n upwards; a run
// where the failure hit the heap push and the clock's advance past 10ms did not end
// the select counts as silent (the test then ends it through the channel). This test
// failed before the change.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/select.hpp"
#include "cogo/task.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;

TEST(AfterOomRegression, ATimeoutThatCannotBeArmedIsNotDroppedSilently) {
  cogo::test::Watchdog wd("after() under allocation failure", 120s);
  int silent = 0;
  int walked = 0;
  for (std::uint64_t nth = 1; nth <= 64; ++nth, ++walked) {
    cogo::ManualClock clock;
    auto unstick = cogo::make_chan<int>(1);
    std::atomic<int> outcome{-1};  // 0: the timeout fired, 1: unstuck, 2: bad_alloc
    std::atomic<bool> fired_alloc{false};
    std::thread waiter([&] {
      cogo::ManualClock::Scope use(clock);
      try {
        cogo::test::FailAllocation fail(nth);
        auto r = cogo::sync_wait(cogo::select(cogo::after(10ms), unstick.recv()));
        fired_alloc.store(fail.fired());
        outcome.store(static_cast<int>(r.index()));
      } catch (const std::bad_alloc&) {
        outcome.store(2);
      }
    });
    // Wait until it waits (or has ended), then move time past the timeout.
    cogo::test::eventually([&] { return clock.armed_timers() == 1 || outcome.load() != -1; }, 200ms);
    clock.advance(1s);
    const bool ended = cogo::test::eventually([&] { return outcome.load() != -1; }, 1s);
    if (!ended) (void)cogo::sync_wait(unstick.send(1));
    waiter.join();
    if (outcome.load() == 1 && fired_alloc.load()) ++silent;  // the timeout was dropped
    if (outcome.load() == 0 && !fired_alloc.load()) break;    // no allocation left to fail
  }
  EXPECT_EQ(silent, 0) << "in " << silent << " of " << walked
                       << " runs an allocation failure left after(10ms) unarmed: 1s passed "
                          "and the select went on waiting, with no error";
}

}  // namespace
