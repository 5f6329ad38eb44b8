// Timer generations: a stale fire must never pass for a current one.
//
// Every arm bumps TimerEntry::gen (include/cogo/detail/timer_service.hpp); a fire
// carries the generation the entry had when it was popped, and fire_timer
// (src/time/timer.cpp) treats it as current only if the generations match. With a
// 16-bit generation, a timer reset 65536 times while a popped fire was paused (what a
// preemption of the firing thread does; an idle timeout reset on every message gets
// there in milliseconds) was back at the same generation, and the stale fire
//   - delivered a value for a deadline that had not come (a Timer fired early);
//   - for a Ticker, re-armed an entry still in the heap: two heap slots for one
//     entry, two grids of ticks, and stop() left the ticker armed.
// The generation is now 32 bits (a wrap needs 2^32 resets inside one paused fire).
// The pause is a link-time wrap of fire_timer; the clock is a ManualClock, whose
// advance fires on the calling thread. These tests failed before the change.
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

#define FIRE_TIMER _ZN4cogo6detail10fire_timerEPNS0_10TimerEntryEjl
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

namespace {
std::atomic<bool> g_arm{false};
std::atomic<bool> g_paused{false};
std::atomic<bool> g_resume{false};
}  // namespace

extern "C" void CAT(__real_, FIRE_TIMER)(cogo::detail::TimerEntry* e, std::uint32_t gen, std::int64_t when);
extern "C" void CAT(__wrap_, FIRE_TIMER)(cogo::detail::TimerEntry* e, std::uint32_t gen, std::int64_t when) {
  if (g_arm.exchange(false)) {
    g_paused.store(true);
    while (!g_resume.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  CAT(__real_, FIRE_TIMER)(e, gen, when);
}

namespace {

using namespace std::chrono_literals;

int resets() {
  const char* v = std::getenv("COGO_TEST_RESETS");
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

TEST(TimerGenerationRegression, AStaleFireNeverFiresATimerResetSinceThen) {
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

TEST(TimerGenerationRegression, AStaleFireNeverArmsATickerTwice) {
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
