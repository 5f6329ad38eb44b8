// Races between timers firing and being stopped, reset or received, with real threads.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

#include "cogo/manual_clock.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(TimerStress, StopRacesFireWithAWaitingReceiver) {
  const int rounds = cogo::test::scaled(1000);
  cogo::ManualClock clock;
  int got_count = 0, stopped_count = 0;
  for (int round = 0; round < rounds; ++round) {
    cogo::Timer t;
    {
      cogo::ManualClock::Scope use(clock);
      t = cogo::Timer(1ms);
    }
    std::atomic<bool> got{false};
    std::barrier start(3);
    std::thread receiver([&] {
      start.arrive_and_wait();
      // A receiver that gives up early only makes stop() the winner more often; every
      // outcome must still have exactly one winner.
      got = t.wait_for(1ms).has_value();
    });
    std::thread firer([&] {
      start.arrive_and_wait();
      clock.advance(1ms);
    });
    start.arrive_and_wait();
    const bool stopped = t.stop();
    firer.join();
    receiver.join();
    // Exactly one wins: the receiver got the value, or stop() took it away.
    ASSERT_NE(got.load(), stopped) << "round " << round;
    (stopped ? stopped_count : got_count) += 1;
    ASSERT_EQ(clock.armed_timers(), 0u);
  }
  RecordProperty("received", got_count);
  RecordProperty("stopped", stopped_count);
}

TEST(TimerStress, AfterFuncStopRacesFire) {
  const int rounds = cogo::test::scaled(200);
  constexpr int kTimers = 50;
  cogo::ManualClock clock;
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> ran{0};
    std::vector<cogo::Timer> timers;
    {
      cogo::ManualClock::Scope use(clock);
      for (int i = 0; i < kTimers; ++i) timers.push_back(cogo::after_func(1ms, [&] { ++ran; }));
    }
    std::atomic<int> stopped{0};
    std::barrier start(2);
    std::thread firer([&] {
      start.arrive_and_wait();
      clock.advance(1ms);
    });
    start.arrive_and_wait();
    for (auto& t : timers) stopped += t.stop() ? 1 : 0;
    firer.join();
    ASSERT_TRUE(cogo::test::eventually([&] { return ran.load() + stopped.load() == kTimers; }))
        << "ran " << ran << " stopped " << stopped;
    ASSERT_EQ(ran.load() + stopped.load(), kTimers);
  }
}

TEST(TimerStress, ResetRacesFireLeavesNoStaleValue) {
  const int rounds = cogo::test::scaled(3000);
  cogo::ManualClock clock;
  for (int round = 0; round < rounds; ++round) {
    cogo::Timer t;
    {
      cogo::ManualClock::Scope use(clock);
      t = cogo::Timer(1ms);
    }
    std::barrier start(2);
    std::thread firer([&] {
      start.arrive_and_wait();
      clock.advance(1ms);
    });
    start.arrive_and_wait();
    t.reset(1h);
    firer.join();
    // Whatever the interleaving, the 1 ms setting's value is gone once reset() returned.
    ASSERT_FALSE(t.try_wait()) << "round " << round;
    ASSERT_TRUE(t.stop());
  }
}

TEST(TimerStress, ManyThreadsArmAndStopOnTheSharedService) {
  const int per_thread = cogo::test::scaled(20000);
  std::vector<std::thread> threads;
  std::atomic<int> early{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < per_thread; ++k) {
        cogo::Timer t(1h);
        if (!t.stop()) ++early;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(early.load(), 0);
}

}  // namespace
