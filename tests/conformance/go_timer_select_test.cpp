// Go's timer tests that concern receiving from tasks and selects (time/sleep_test.go):
// TestChan through select, and TestTimerGC as cogo states it: a timeout case that loses
// leaves nothing armed once the select returns.
#include "cogo/select.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "cogo/chan.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Task;

// True if a select finds a value ready on the timer right now.
bool ready(const cogo::Timer& t) {
  return cogo::sync_wait(cogo::select(t.recv(), cogo::default_case)).index() == 0;
}
bool ready(const cogo::Ticker& t) {
  return cogo::sync_wait(cogo::select(t.recv(), cogo::default_case)).index() == 0;
}

// TestChan through select: after Stop or Reset no stale value is ever selected.
TEST(GoTimerSelect, TestChan) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  cogo::Timer tim(10000s);
  EXPECT_FALSE(ready(tim));
  tim.reset(1ms);
  clock.advance(1ms);
  EXPECT_TRUE(ready(tim));
  EXPECT_FALSE(ready(tim)) << "extra value";
  tim.reset(1ms);
  clock.advance(1ms);
  tim.reset(10000s);
  EXPECT_FALSE(ready(tim)) << "stale value after Reset";
  tim.reset(1ms);
  clock.advance(1ms);
  tim.stop();
  EXPECT_FALSE(ready(tim)) << "stale value after Stop";
  tim.reset(1ms);
  clock.advance(1ms);
  EXPECT_TRUE(ready(tim));

  cogo::Ticker tk(10000s);
  tk.reset(1ms);
  clock.advance(1ms);
  tk.reset(10000s);
  EXPECT_FALSE(ready(tk)) << "stale tick after Reset";
  tk.reset(1ms);
  clock.advance(1ms);
  tk.stop();
  EXPECT_FALSE(ready(tk)) << "stale tick after Stop";
  clock.advance(1h);
  EXPECT_FALSE(ready(tk)) << "tick after Stop";
}

class GoTimerGC : public cogo::test::RuntimeTest {};

// Replies to each ping; every 64th reply comes 200 us late (a spin, which arms no timer
// of its own), so that some selects surely wait whatever the threads' timing.
Task<> answer(Chan<int> ping, Chan<int> pong, int n) {
  for (int i = 0; i < n; ++i) {
    auto v = co_await ping.recv();
    if (i % 64 == 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (std::chrono::steady_clock::now() < until) {
      }
    }
    (void)co_await pong.send(*v);
  }
}

// Each select has to wait, so its after(1h) is armed; the partner's reply wins.
Task<int> ask(Chan<int> ping, Chan<int> pong, int n) {
  int won = 0;
  for (int i = 0; i < n; ++i) {
    (void)co_await ping.send(i);
    auto r = co_await cogo::select(cogo::after(1h), pong.recv());
    if (r.index() == 1) ++won;
  }
  co_return won;
}

// Go's TestTimerGC checks that unreferenced timers are collected; cogo removes them from
// the timer service before the select returns, so nothing is left to collect.
TEST_P(GoTimerGC, TestTimerGC) {
  const int n = cogo::test::scaled(20000);
  auto& timers = sched().impl().timers();
  const std::size_t armed_before = sched().armed_timers();
  const std::uint64_t arms_before = timers.arms();
  auto ping = cogo::make_chan<int>(0);
  auto pong = cogo::make_chan<int>(0);
  sched().go(answer(ping, pong, n));
  EXPECT_EQ(run(ask(ping, pong, n)), n);
  EXPECT_EQ(sched().armed_timers(), armed_before);
  // Selects that found the reply not yet there armed their timeout (the late replies
  // make sure some did).
  EXPECT_GT(timers.arms() - arms_before, 0u);
}

COGO_RUNTIME_TEST_SUITE(GoTimerGC);

}  // namespace
