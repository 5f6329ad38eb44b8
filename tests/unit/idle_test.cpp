// The scheduler's idle path (cogo/detail/idle.hpp): sleeping workers are woken by every
// source of work, and no task is stranded in a slot that nobody looks at.
#include "cogo/detail/idle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;

// A timer fired by the keeper inside its idle path wakes its task into that worker's
// next-to-run slot; the worker must run it, not go back to sleep until the next timer
// (with one worker and nothing else armed: for ever).
Task<> sleep_randomly(int rounds, std::atomic<int>& done) {
  std::minstd_rand rng(7);
  std::uniform_int_distribution<int> us(5, 400);
  for (int i = 0; i < rounds; ++i) {
    co_await cogo::sleep(std::chrono::microseconds(us(rng)));
    done.fetch_add(1, std::memory_order_relaxed);
  }
}

TEST(IdleTest, ATimerFiredWhileParkingRunsItsTask) {
  cogo::Scheduler sched({.workers = 1});
  std::atomic<int> done{0};
  const int rounds = cogo::test::scaled(3000);
  sched.go(sleep_randomly(rounds, done));
  // About 3000 sleeps of 200 us on average: well under a second when nothing strands.
  const bool finished = cogo::test::eventually([&] { return done.load() == rounds; }, 20s);
  if (!finished) sched.go([]() -> Task<> { co_return; }());  // unstick it to shut down
  EXPECT_TRUE(finished) << "stalled after " << done.load() << " of " << rounds << " sleeps";
}

// A task woken into the next-to-run slot of a worker whose task keeps running (a CPU
// loop, a blocking call) is taken by an idle worker instead of waiting for it.
Task<> set_flag(std::atomic<bool>& ran) {
  ran.store(true);
  co_return;
}

// The other workers are asleep: nobody steals the new task while spinning.
void until_others_sleep(cogo::Scheduler& s) {
  cogo::test::eventually([&] { return s.impl().idle_workers() + 1 == s.workers(); });
}

Task<bool> spawn_then_spin(cogo::Scheduler& s, std::atomic<bool>& ran) {
  until_others_sleep(s);
  cogo::go(set_flag(ran));  // lands in this worker's next-to-run slot
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!ran.load() && std::chrono::steady_clock::now() < until) {
  }
  co_return ran.load();
}

TEST(IdleTest, ANextSlotTaskRunsWhileItsWakerSpins) {
  cogo::Scheduler sched({.workers = 2});
  std::atomic<bool> ran{false};
  for (int round = 0; round < 20; ++round) {
    ran = false;
    ASSERT_TRUE(sched.block_on(spawn_then_spin(sched, ran))) << "round " << round;
  }
}

Task<bool> spawn_then_block(cogo::Scheduler& s, std::atomic<bool>& ran, std::mutex& mu,
                            std::condition_variable& cv) {
  until_others_sleep(s);
  cogo::go(set_flag(ran));
  std::unique_lock<std::mutex> lk(mu);
  const bool ok = cv.wait_for(lk, 5s, [&] { return ran.load(); });
  co_return ok;
}

TEST(IdleTest, ANextSlotTaskRunsWhileItsWakerBlocks) {
  cogo::Scheduler sched({.workers = 2});
  std::atomic<bool> ran{false};
  std::mutex mu;
  std::condition_variable cv;
  // set_flag does not notify; the wait polls its predicate on timeouts of its own.
  std::thread poke([&] {
    while (!ran.load()) std::this_thread::sleep_for(1ms);
    cv.notify_all();
  });
  EXPECT_TRUE(sched.block_on(spawn_then_block(sched, ran, mu, cv)));
  poke.join();
}

// Waking a sleeping worker: by a push from another worker, by a timer, from outside.
Task<> recv_one(cogo::Chan<int> ch, std::atomic<int>& got) {
  if (auto v = co_await ch.recv()) got.fetch_add(*v);
}

Task<> send_from_task(cogo::Chan<int> ch) { (void)co_await ch.send(1); }

class IdleWakeTest : public cogo::test::RuntimeTest {};

TEST_P(IdleWakeTest, ASleepingWorkerWakesForAPushFromAnotherWorker) {
  std::atomic<int> got{0};
  for (int round = 0; round < 200; ++round) {
    auto ch = cogo::make_chan<int>();
    sched().go(recv_one(ch, got));
    ASSERT_TRUE(until_waiting(1, cogo::detail::WaitReason::chan_receive));
    ASSERT_TRUE(cogo::test::eventually([&] { return sched().impl().idle_workers() == GetParam(); }));
    sched().go(send_from_task(ch));  // from outside: the global queue
    ASSERT_TRUE(cogo::test::eventually([&] { return got.load() == round + 1; }));
  }
}

TEST_P(IdleWakeTest, ASleepingWorkerWakesForATimer) {
  for (int round = 0; round < 50; ++round) {
    ASSERT_TRUE(cogo::test::eventually([&] { return sched().impl().idle_workers() == GetParam(); }));
    const auto start = std::chrono::steady_clock::now();
    run(cogo::sleep(2ms));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  }
}

TEST_P(IdleWakeTest, ASleepingWorkerWakesForAThreadSend) {
  std::atomic<int> got{0};
  for (int round = 0; round < 200; ++round) {
    auto ch = cogo::make_chan<int>();
    sched().go(recv_one(ch, got));
    ASSERT_TRUE(until_waiting(1, cogo::detail::WaitReason::chan_receive));
    ASSERT_TRUE(cogo::test::eventually([&] { return sched().impl().idle_workers() == GetParam(); }));
    EXPECT_TRUE(cogo::sync_wait(ch.send(1)));
    ASSERT_TRUE(cogo::test::eventually([&] { return got.load() == round + 1; }));
  }
}

COGO_RUNTIME_TEST_SUITE(IdleWakeTest);

// The protocol's own pieces.
TEST(IdleSetTest, AnInterruptBeforeTheWaitIsKept) {
  cogo::detail::WorkerPoller p;
  p.interrupt();
  const auto start = std::chrono::steady_clock::now();
  p.wait(cogo::detail::kNoDeadline);  // returns at once: the interrupt is pending
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  p.consume();
  const auto t0 = cogo::detail::monotonic_ns();
  p.wait(t0 + 2'000'000);  // consumed: now it waits for the deadline
  EXPECT_GE(cogo::detail::monotonic_ns() - t0, 2'000'000);
}

TEST(IdleSetTest, WakeOneTakesAWorkerOutAndCountsItSpinning) {
  cogo::detail::IdleSet set(2);
  cogo::detail::WorkerPoller p;
  cogo::detail::IdleSet::Slot s;
  s.poller = &p;
  set.announce(s);
  EXPECT_EQ(set.idle(), 1u);
  set.notify_work();  // nobody spins: wakes it
  EXPECT_EQ(set.idle(), 0u);
  EXPECT_EQ(set.spinning(), 1u);
  set.retract(s);  // takes the spinning count over
  EXPECT_TRUE(s.spinning);
  set.found_work(s);
  EXPECT_EQ(set.spinning(), 0u);
  EXPECT_FALSE(set.wake_one());
}

TEST(IdleSetTest, StopInterruptsEveryIdleWorker) {
  cogo::detail::IdleSet set(2);
  cogo::detail::WorkerPoller pa, pb;
  cogo::detail::IdleSet::Slot a, b;
  a.poller = &pa;
  b.poller = &pb;
  set.announce(a);
  set.announce(b);
  set.stop();
  EXPECT_TRUE(set.stopping());
  const auto start = std::chrono::steady_clock::now();
  pa.wait(cogo::detail::kNoDeadline);
  pb.wait(cogo::detail::kNoDeadline);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
