#include "cogo/scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/sync.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Task;

class SchedulerTest : public cogo::test::RuntimeTest {};

TEST_P(SchedulerTest, HasTheWorkersItWasGiven) { EXPECT_EQ(sched().workers(), GetParam()); }

Task<std::thread::id> thread_of_task() { co_return std::this_thread::get_id(); }

TEST_P(SchedulerTest, BlockOnRunsOnAWorker) {
  EXPECT_NE(run(thread_of_task()), std::this_thread::get_id());
  EXPECT_EQ(cogo::Scheduler::current(), nullptr);
}

Task<cogo::Scheduler*> current_scheduler() { co_return cogo::Scheduler::current(); }

Task<int> forty_two() { co_return 42; }

// block_on from a worker of the same scheduler: refused, where it could hang.
Task<bool> block_on_own_scheduler(cogo::Scheduler& s) {
  bool refused = false;
  try {
    s.block_on(forty_two());
  } catch (const cogo::usage_error&) {
    refused = true;
  }
  co_return refused;
}

Task<int> block_on_other_scheduler(cogo::Scheduler& other) { co_return other.block_on(forty_two()); }

Task<> destroy(cogo::Scheduler* s) {
  delete s;
  co_return;
}

TEST_P(SchedulerTest, CurrentIsTheWorkersScheduler) { EXPECT_EQ(run(current_scheduler()), &sched()); }

Task<> pong(Chan<int> in, Chan<int> out) {
  while (auto v = co_await in.recv()) (void)co_await out.send(*v);
  out.close();
}

// Counts the rounds after which ping found itself on another thread than before.
Task<int> ping(Chan<int> out, Chan<int> in, int rounds) {
  int moves = 0;
  std::thread::id last = std::this_thread::get_id();
  for (int i = 0; i < rounds; ++i) {
    (void)co_await out.send(i);
    co_await in.recv();
    if (std::this_thread::get_id() != last) ++moves;
    last = std::this_thread::get_id();
  }
  out.close();
  co_return moves;
}

TEST_P(SchedulerTest, APingPongStaysOnOneWorker) {
  auto a = cogo::make_chan<int>(), b = cogo::make_chan<int>();
  sched().go(pong(a, b));
  // The woken task runs next on the waker's worker, so the pair stays together. Idle
  // workers take it over only if its worker stops running (the OS may preempt a worker
  // when there are more of them than cores): a handful of moves, not one per round.
  const int rounds = 10000;
  const int moves = run(ping(a, b, rounds));
  // The OS preempts workers now and then (more so under a sanitizer's slowdown): allow a
  // few percent of rounds, far from the move per round that an idle worker stealing
  // every wake-up would cause. With more workers than cores, preempted workers are the
  // norm and their next-slot tasks are rightly taken over: there, the ping-pong
  // finishing all its rounds (run() returning) is what is checked.
  if (GetParam() <= std::thread::hardware_concurrency()) {
    EXPECT_LT(moves, rounds / 20);
  }
}

Task<> burn(std::atomic<int>& busy, std::atomic<int>& peak, cogo::WaitGroup& wg) {
  const int now = busy.fetch_add(1) + 1;
  int prev = peak.load();
  while (now > prev && !peak.compare_exchange_weak(prev, now)) {
  }
  const auto until = std::chrono::steady_clock::now() + 20ms;
  while (std::chrono::steady_clock::now() < until) {
  }
  busy.fetch_sub(1);
  wg.done();
  co_return;
}

Task<> spawn_burners(std::atomic<int>& busy, std::atomic<int>& peak, cogo::WaitGroup& wg, int n) {
  for (int i = 0; i < n; ++i) {
    wg.add(1);
    cogo::go(burn(busy, peak, wg));
  }
  co_await wg.wait();
}

TEST_P(SchedulerTest, IdleWorkersStealQueuedWork) {
  std::atomic<int> busy{0}, peak{0};
  cogo::WaitGroup wg;
  run(spawn_burners(busy, peak, wg, 8));
  // Tasks spawned on one worker run on as many workers as there are (or as the
  // machine's cores allow them to overlap: at least two on a multi-core machine).
  if (GetParam() > 1 && std::thread::hardware_concurrency() > 1) {
    EXPECT_GE(peak.load(), 2);
  } else {
    EXPECT_EQ(peak.load(), 1);
  }
}

TEST_P(SchedulerTest, WorkersDriveTimers) {
  const auto start = std::chrono::steady_clock::now();
  run(cogo::sleep(10ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 10ms);
  EXPECT_EQ(sched().impl().timers().armed(), 0u);
}

Task<> sleeper(cogo::Chan<int> done, std::chrono::milliseconds d) {
  co_await cogo::sleep(d);
  (void)co_await done.send(static_cast<int>(d.count()));
}

TEST_P(SchedulerTest, ManyConcurrentSleepersWakeInDeadlineOrder) {
  auto done = cogo::make_chan<int>(10);
  for (int ms : {50, 10, 30, 20, 40}) sched().go(sleeper(done, std::chrono::milliseconds(ms)));
  for (int want : {10, 20, 30, 40, 50}) EXPECT_EQ(run(done.recv()), want);
}

TEST(SchedulerManualClockTest, TimersOfAManualClockSchedulerFollowThatClock) {
  cogo::ManualClock clock;
  cogo::Scheduler sched({.workers = 2, .clock = &clock});
  auto done = cogo::make_chan<int>(1);
  sched.go(sleeper(done, 1h));
  ASSERT_TRUE(cogo::test::eventually([&] { return clock.armed_timers() == 1; }));
  EXPECT_FALSE(done.try_recv());
  clock.advance(1h);  // an hour, instantly
  EXPECT_EQ(cogo::sync_wait(done.recv()), 3600000);
}

Task<> wait_then_finish(cogo::Chan<int> gate) { co_await gate.recv(); }

TEST(SchedulerShutdownTest, DestructionWaitsForTasksToFinish) {
  auto gate = cogo::make_chan<int>();
  std::atomic<bool> destroyed{false};
  std::thread closer;
  {
    cogo::Scheduler sched({.workers = 2});
    for (int i = 0; i < 4; ++i) sched.go(wait_then_finish(gate));
    EXPECT_EQ(sched.live_tasks(), 4u);
    closer = std::thread([&] {
      // Let the destructor start waiting, then release the tasks.
      cogo::test::eventually([&] { return false; }, 20ms);
      EXPECT_FALSE(destroyed.load());
      gate.close();
    });
  }
  destroyed = true;
  closer.join();
}

TEST(SchedulerDefaultTest, ExistsOnceAndRunsGo) {
  cogo::Scheduler& a = cogo::Scheduler::default_scheduler();
  EXPECT_EQ(&a, &cogo::Scheduler::default_scheduler());
  EXPECT_EQ(a.workers(), std::max(1u, std::thread::hardware_concurrency()));
  auto ch = cogo::make_chan<int>(1);
  cogo::go([](Chan<int> c) -> Task<> { (void)co_await c.send(5); }(ch));
  EXPECT_EQ(cogo::sync_wait(ch.recv()), 5);
}

COGO_RUNTIME_TEST_SUITE(SchedulerTest);

TEST_P(SchedulerTest, BlockOnFromItsOwnWorkerIsAUsageError) {
  EXPECT_TRUE(run(block_on_own_scheduler(sched())));
  cogo::Scheduler other({.workers = 1});
  EXPECT_EQ(run(block_on_other_scheduler(other)), 42) << "another scheduler's block_on is fine";
}

TEST(SchedulerShutdownDeathTest, DestroyingASchedulerFromItsOwnWorkerAbortsWithAReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* s = new cogo::Scheduler({.workers = 1});
        s->go(destroy(s));
        std::this_thread::sleep_for(std::chrono::seconds(30));  // the abort comes first
      },
      "destroyed from one of its own workers");
}

}  // namespace
