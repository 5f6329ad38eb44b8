// Races between timers firing and being stopped, reset or received, with real threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "cogo/context.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/scheduler.hpp"
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

TEST(TimerStress, ResetToTheEndOfTimeRacesFireLeavesNoStaleValue) {
  // A reset to a delay that never elapses arms nothing, yet a fire of the earlier setting
  // already in flight must still see itself as stale.
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
    t.reset(std::chrono::hours::max());
    firer.join();
    ASSERT_FALSE(t.try_wait()) << "round " << round;
    ASSERT_TRUE(t.stop());
    ASSERT_EQ(clock.armed_timers(), 0u);
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

// One timer, deadline or sleep of the never-early test: when it started, how long it was
// for, and when its owner saw it end.
struct Span {
  std::chrono::steady_clock::time_point start;
  std::chrono::nanoseconds length{};
  std::chrono::steady_clock::time_point end;
  std::chrono::steady_clock::time_point reported;  // the timer's value; deadline() for contexts
};

cogo::Task<> sleep_and_record(Span* s, std::latch* done) {
  s->start = std::chrono::steady_clock::now();
  co_await cogo::sleep(s->length);
  s->end = std::chrono::steady_clock::now();
  s->reported = s->end;
  done->count_down();
}

// Long delays must not trust a cheap clock that may lag: a timer, deadline or sleep of a
// second or more ends no earlier than its start plus its length on steady_clock. Eight
// threads arm them at once (so the test takes about a second), spread over many ticks of
// the coarse clock.
TEST(TimerStress, LongTimersDeadlinesAndSleepsNeverEndEarly) {
  using clk = std::chrono::steady_clock;
  constexpr int kThreads = 8;
  const int per_kind = cogo::test::scaled(60);
  cogo::Scheduler sched({.workers = 2});
  std::vector<std::unique_ptr<Span[]>> timers(kThreads), deadlines(kThreads), sleeps(kThreads);
  std::latch callbacks(static_cast<std::ptrdiff_t>(kThreads) * per_kind * 2);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    timers[i] = std::make_unique<Span[]>(per_kind);
    deadlines[i] = std::make_unique<Span[]>(per_kind);
    sleeps[i] = std::make_unique<Span[]>(per_kind);
    threads.emplace_back([&, i] {
      std::vector<cogo::Timer> ts;
      std::vector<cogo::Cancelable<cogo::CancelFunc>> ctxs;
      std::vector<cogo::AfterFunc> watches;
      for (int k = 0; k < per_kind; ++k) {
        // Lengths from 1 s up, 37 us apart, so arms land all over the coarse clock's tick.
        const auto length = std::chrono::nanoseconds(1s) + (i * per_kind + k) * 37us;
        Span& t = timers[i][k];
        t.length = length;
        t.start = clk::now();
        ts.emplace_back(length);
        Span& d = deadlines[i][k];
        d.length = length;
        d.start = clk::now();
        ctxs.push_back(cogo::with_timeout(cogo::background(), length));
        d.reported = ctxs.back().ctx.deadline().value_or(clk::time_point::min());
        watches.push_back(cogo::after_func(ctxs.back().ctx, [&d, &callbacks] {
          d.end = clk::now();
          callbacks.count_down();
        }));
        sleeps[i][k].length = length;
        sched.go(sleep_and_record(&sleeps[i][k], &callbacks));
        // Not to let anything settle: pacing spreads the arms over several ticks of the
        // coarse clock, so that they sample every phase of it, the lagging ones included.
        std::this_thread::sleep_for(250us);
      }
      for (int k = 0; k < per_kind; ++k) {
        timers[i][k].reported = ts[k].wait();
        timers[i][k].end = clk::now();
      }
      callbacks.wait();  // every deadline's callback and every sleep has recorded its end
    });
  }
  for (auto& t : threads) t.join();
  struct Tally {
    const char* what;
    int early = 0;
    clk::duration worst{};
  };
  Tally tallies[] = {{"timer"}, {"deadline"}, {"sleep"}};
  const std::vector<std::unique_ptr<Span[]>>* kinds[] = {&timers, &deadlines, &sleeps};
  for (int kind = 0; kind < 3; ++kind) {
    for (const auto& spans : *kinds[kind]) {
      for (int k = 0; k < per_kind; ++k) {
        const Span& s = spans[k];
        const clk::time_point due = s.start + s.length;
        const clk::time_point first = std::min(s.end, s.reported);
        if (first < due) {
          ++tallies[kind].early;
          tallies[kind].worst = std::max(tallies[kind].worst, due - first);
        }
      }
    }
  }
  for (const Tally& t : tallies) {
    EXPECT_EQ(t.early, 0) << t.early << " of " << kThreads * per_kind << " " << t.what
                          << "s ended early, by up to "
                          << std::chrono::duration<double, std::micro>(t.worst).count() << " us";
  }
}

}  // namespace
