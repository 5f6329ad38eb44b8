#include "cogo/scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

Task<std::string> block_on_other_scheduler(cogo::Scheduler& other) {
  std::string what;
  try {
    other.block_on(forty_two());
  } catch (const cogo::usage_error& e) {
    what = e.what();
  }
  co_return what;
}

Task<std::string> sync_wait_in_a_task() {
  std::string what;
  try {
    cogo::sync_wait(forty_two());
  } catch (const cogo::usage_error& e) {
    what = e.what();
  }
  co_return what;
}

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

TEST_P(SchedulerTest, BlockOnFromAnyWorkerIsAUsageError) {
  EXPECT_TRUE(run(block_on_own_scheduler(sched())));
  // Another scheduler's block_on would block this worker all the same.
  cogo::Scheduler other({.workers = 1});
  const std::string what = run(block_on_other_scheduler(other));
  EXPECT_NE(what.find("Scheduler::block_on"), std::string::npos) << what;
  EXPECT_NE(what.find("co_await"), std::string::npos) << what;
}

TEST_P(SchedulerTest, SyncWaitInATaskIsAUsageError) {
  const std::string what = run(sync_wait_in_a_task());
  EXPECT_NE(what.find("sync_wait"), std::string::npos) << what;
  EXPECT_NE(what.find("scheduler_test.cpp"), std::string::npos) << "names the call's site: " << what;
}

// Every blocking wait for threads is refused on a worker, naming itself.
Task<std::vector<std::string>> blocking_waits_in_a_task() {
  std::vector<std::string> refused;
  auto note = [&](auto&& wait) {
    try {
      wait();
    } catch (const cogo::usage_error& e) {
      refused.emplace_back(e.what());
    }
  };
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 1h);
  note([&] { ctx.wait(); });
  note([&] { (void)ctx.wait_for(1ms); });
  note([&] { (void)ctx.wait_until(std::chrono::steady_clock::now()); });
  cogo::Timer t(1h);
  note([&] { (void)t.wait(); });
  note([&] { (void)t.wait_for(1ms); });
  co_return refused;
}

TEST_P(SchedulerTest, EveryBlockingWaitInATaskIsAUsageError) {
  const std::vector<std::string> refused = run(blocking_waits_in_a_task());
  ASSERT_EQ(refused.size(), 5u);
  const char* names[] = {"Context::wait ", "Context::wait_for", "Context::wait_until", "Timer::wait ",
                         "Timer::wait_for"};
  for (std::size_t i = 0; i < refused.size(); ++i) {
    EXPECT_NE(refused[i].find(names[i]), std::string::npos) << refused[i];
    EXPECT_NE(refused[i].find("co_await"), std::string::npos) << refused[i];
  }
}

TEST(SchedulerRunTest, RunsATaskOnTheDefaultSchedulerAndReturnsItsValue) {
  EXPECT_EQ(cogo::run(forty_two()), 42);
  EXPECT_EQ(cogo::run(current_scheduler()), &cogo::Scheduler::default_scheduler());
  EXPECT_THROW(cogo::run([]() -> Task<> { throw std::runtime_error("boom"); }()), std::runtime_error);
}

// go() takes the frame before it allocates the task's record: if that allocation fails,
// the frame (and what it holds) is freed, not leaked, and the exception reaches the
// caller.
struct Witness {
  std::atomic<int>* alive;
  explicit Witness(std::atomic<int>* a) : alive(a) { alive->fetch_add(1); }
  Witness(Witness&& o) noexcept : alive(o.alive) { alive->fetch_add(1); }
  ~Witness() { alive->fetch_sub(1); }
};

Task<> hold(Witness w, std::atomic<int>& ran) {
  (void)w;
  ran.fetch_add(1);
  co_return;
}

TEST(SchedulerAllocationTest, AGoWhoseAllocationFailsFreesTheTask) {
  cogo::Scheduler sched({.workers = 1});
  std::atomic<int> alive{0}, ran{0};
  int failed = 0;
  for (std::uint64_t nth = 1; nth < 64; ++nth) {
    std::thread t([&] {  // a fresh thread: its block caches are empty
      Task<> task = hold(Witness(&alive), ran);
      cogo::test::FailAllocation fail(nth);
      try {
        sched.go(std::move(task));
      } catch (const std::bad_alloc&) {
        ++failed;
      }
    });
    t.join();
  }
  ASSERT_TRUE(cogo::test::eventually([&] { return sched.live_tasks() == 0 && alive.load() == 0; }));
  EXPECT_EQ(ran.load() + failed, 63);
}

// A block_on that waits with tasks parked and nothing running says what they wait for.
Task<> wait_for_ever(cogo::Chan<int> ch) { co_await ch.recv(); }

TEST(SchedulerStallTest, ABlockedBlockOnReportsWhatTheTasksWaitFor) {
  cogo::set_stall_report_after(200ms);
  auto gate = cogo::make_chan<int>();
  cogo::Scheduler sched({.workers = 1});
  std::thread closer([&] {
    std::this_thread::sleep_for(1500ms);  // the report's threshold is the point here
    gate.close();
  });
  ::testing::internal::CaptureStderr();
  sched.block_on(wait_for_ever(gate));
  const std::string err = ::testing::internal::GetCapturedStderr();
  closer.join();
  cogo::set_stall_report_after(std::chrono::milliseconds(0));
  EXPECT_NE(err.find("Scheduler::block_on at tests/unit/scheduler_test.cpp"), std::string::npos) << err;
  EXPECT_NE(err.find("[chan receive]"), std::string::npos) << err;
  EXPECT_NE(err.find("waiting at tests/unit/scheduler_test.cpp"), std::string::npos) << err;
  EXPECT_EQ(err.find("has waited", err.find("has waited") + 1), std::string::npos) << "once: " << err;
}

// The same report from the two other blocking waits: a thread's sync_wait, and a
// Scheduler destructor that waits for its tasks to end.
TEST(SchedulerStallTest, ABlockedSyncWaitReportsWhatTheTasksWaitFor) {
  cogo::set_stall_report_after(200ms);
  auto gate = cogo::make_chan<int>();
  cogo::Scheduler sched({.workers = 1});
  sched.go(wait_for_ever(gate));
  std::thread closer([&] {
    std::this_thread::sleep_for(1500ms);
    gate.close();
  });
  ::testing::internal::CaptureStderr();
  cogo::sync_wait(wait_for_ever(gate));
  const std::string err = ::testing::internal::GetCapturedStderr();
  closer.join();
  cogo::set_stall_report_after(std::chrono::milliseconds(0));
  EXPECT_NE(err.find("sync_wait at tests/unit/scheduler_test.cpp"), std::string::npos) << err;
  EXPECT_NE(err.find("[chan receive]"), std::string::npos) << err;
  EXPECT_EQ(err.find("has waited", err.find("has waited") + 1), std::string::npos) << "once: " << err;
}

TEST(SchedulerStallTest, ABlockedSchedulerDestructorReportsWhatTheTasksWaitFor) {
  cogo::set_stall_report_after(200ms);
  auto gate = cogo::make_chan<int>();
  std::thread closer;
  ::testing::internal::CaptureStderr();
  {
    cogo::Scheduler sched({.workers = 1});
    sched.go(wait_for_ever(gate));
    sched.go(wait_for_ever(gate));
    closer = std::thread([&] {
      std::this_thread::sleep_for(1500ms);
      gate.close();
    });
  }  // waits for both tasks, which wait for the close
  const std::string err = ::testing::internal::GetCapturedStderr();
  closer.join();
  cogo::set_stall_report_after(std::chrono::milliseconds(0));
  EXPECT_NE(err.find("a Scheduler destructor at "), std::string::npos) << err;
  EXPECT_NE(err.find("2 task(s) live"), std::string::npos) << err;
  EXPECT_NE(err.find("[chan receive]"), std::string::npos) << err;
  EXPECT_EQ(err.find("has waited", err.find("has waited") + 1), std::string::npos) << "once: " << err;
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
