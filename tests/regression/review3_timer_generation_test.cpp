// Timer generations, review 3: the 16-bit arm generation wraps, so a stale fire passes
// for a current one.
//
// TimerEntry::gen is a std::uint16_t (include/cogo/detail/timer_service.hpp:36), bumped
// by every arm (src/time/timer_service.cpp:115, ++e->gen in arm(); read back at :175). A fire carries the generation the
// entry had when it was popped, and fire_timer (src/time/timer.cpp:280-290) treats it as
// current if `s->gen == gen`. Once the fire is popped, with no lock held, a timer that
// is reset 65536 times (one arm each; an idle timeout reset on every message does this
// in milliseconds) is back at the same generation, and the stale fire:
//   - delivers a value for a deadline that has not come (Timer: fires early);
//   - for a Ticker, re-arms the entry while it is still in the heap (arm() requires
//     "e must not be armed"): two heap slots for one entry, so the ticker ticks on two
//     grids; stop() removes one slot and the ticker stays armed. (The slots' references
//     are counted, so no use-after-free follows: ASan is quiet.) And since run_due reads
//     the generation from the entry when it pops a slot, not from the slot, the extra
//     slot always passes the check.
// The fire's pause after it was popped (what a preemption of the firing thread does) is
// a link-time wrap of fire_timer; the clock is a ManualClock, whose advance fires on the
// calling thread. REVIEW_RESETS=65535 is the control (one short of the wrap): passes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <optional>
#include <thread>

#include "cogo/detail/timer_service.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/timer.hpp"
#include "support/watchdog.hpp"

#define FIRE_TIMER _ZN4cogo6detail10fire_timerEPNS0_10TimerEntryEtl
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

namespace {
std::atomic<bool> g_arm{false};
std::atomic<bool> g_paused{false};
std::atomic<bool> g_resume{false};
}  // namespace

extern "C" void CAT(__real_, FIRE_TIMER)(cogo::detail::TimerEntry* e, std::uint16_t gen, std::int64_t when);
extern "C" void CAT(__wrap_, FIRE_TIMER)(cogo::detail::TimerEntry* e, std::uint16_t gen, std::int64_t when) {
  if (g_arm.exchange(false)) {
    g_paused.store(true);
    while (!g_resume.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  CAT(__real_, FIRE_TIMER)(e, gen, when);
}

namespace {

using namespace std::chrono_literals;

int resets() {
  const char* v = std::getenv("REVIEW_RESETS");
  return v != nullptr ? std::atoi(v) : 65536;
}

// Fires `fire` on another thread, paused after the entry was popped; runs `meanwhile`;
// then lets the fire finish.
template <class M>
void with_fire_in_flight(cogo::ManualClock& clock, M&& meanwhile) {
  g_paused.store(false);
  g_resume.store(false);
  g_arm.store(true);
  std::thread firer([&] { clock.advance(10ms); });
  while (!g_paused.load()) std::this_thread::sleep_for(100us);
  meanwhile();
  g_resume.store(true);
  firer.join();
}

TEST(ReviewTimerGeneration, AStaleFireNeverFiresATimerResetSinceThen) {
  cogo::test::Watchdog wd("timer generation", 60s);
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  cogo::Timer t(10ms);
  const int n = resets();
  with_fire_in_flight(clock, [&] {
    for (int i = 0; i < n; ++i) t.reset(1h);  // each reset makes the popped fire stale
  });
  // Not due for an hour.
  const auto v = t.try_wait();
  EXPECT_FALSE(v.has_value()) << "a timer reset to 1h fired after 10ms (" << n << " resets)";
  t.stop();
}

TEST(ReviewTimerGeneration, AStaleFireNeverArmsATickerTwice) {
  cogo::test::Watchdog wd("ticker generation", 60s);
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  const int n = resets();
  {
    cogo::Ticker tk(10ms);
    with_fire_in_flight(clock, [&] {
      for (int i = 0; i < n; ++i) tk.reset(1h);
    });
    EXPECT_EQ(clock.armed_timers(), 1u) << "one ticker, armed twice";
    tk.stop();
    EXPECT_EQ(clock.armed_timers(), 0u) << "a stopped ticker is still armed";
  }  // the ticker goes
  clock.advance(2h);  // whatever is still in the heap fires now
}

}  // namespace
