#include "cogo/sync.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/select.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Task;
using cogo::detail::WaitReason;

class SyncTest : public cogo::test::RuntimeTest {};

Task<> finish_after_yield(cogo::WaitGroup& wg, std::atomic<int>& n) {
  co_await cogo::yield();
  n.fetch_add(1);
  wg.done();
}

TEST_P(SyncTest, WaitGroupWaitsForEveryDone) {
  cogo::WaitGroup wg;
  std::atomic<int> n{0};
  for (int i = 0; i < 100; ++i) {
    wg.add(1);
    sched().go(finish_after_yield(wg, n));
  }
  run(wg.wait());
  EXPECT_EQ(n.load(), 100);
  EXPECT_EQ(wg.count(), 0);
}

TEST_P(SyncTest, WaitGroupRefusesANegativeCounterAndChangesNothing) {
  cogo::WaitGroup wg;
  EXPECT_THROW(wg.done(), cogo::usage_error);
  EXPECT_EQ(wg.count(), 0);
  wg.add(2);
  EXPECT_THROW(wg.add(-3), cogo::usage_error);
  EXPECT_EQ(wg.count(), 2);
  wg.add(-2);
  EXPECT_EQ(wg.count(), 0);
  run(wg.wait());  // zero: does not wait
}

// A waiter that sees zero may free the WaitGroup at once, while the done() that reached
// zero is still returning: that done() must not touch the WaitGroup afterwards. ASan and
// TSan report it if it does.
TEST_P(SyncTest, WaitGroupMayBeFreedAsSoonAsItsWaitReturns) {
  for (int round = 0; round < 2000; ++round) {
    auto wg = std::make_unique<cogo::WaitGroup>();
    wg->add(2);
    for (int i = 0; i < 2; ++i) {
      sched().go([](cogo::WaitGroup& w) -> Task<> {
        w.done();
        co_return;
      }(*wg));
    }
    if (round % 2 == 0) {
      run(wg->wait());
    } else {
      while (wg->count() != 0) std::this_thread::yield();
    }
    EXPECT_EQ(wg->count(), 0);
    wg.reset();
  }
}

Task<> lock_and_add(cogo::Mutex& m, long& counter, int times) {
  for (int i = 0; i < times; ++i) {
    auto guard = co_await m.scoped_lock();
    const long seen = counter;
    co_await cogo::yield();  // hold the lock across a suspension
    counter = seen + 1;
  }
}

TEST_P(SyncTest, MutexExcludesAcrossSuspensions) {
  cogo::Mutex m;
  long counter = 0;  // guarded by m
  cogo::WaitGroup wg;
  for (int t = 0; t < 8; ++t) {
    wg.add(1);
    sched().go([](cogo::Mutex& mu, long& c, cogo::WaitGroup& w) -> Task<> {
      co_await lock_and_add(mu, c, 200);
      w.done();
    }(m, counter, wg));
  }
  run(wg.wait());
  EXPECT_EQ(counter, 8 * 200);
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST_P(SyncTest, MutexHandsOffInArrivalOrder) {
  cogo::Mutex m;
  ASSERT_TRUE(m.try_lock());
  auto order = cogo::make_chan<int>(3);
  for (int i = 0; i < 3; ++i) {
    sched().go([](cogo::Mutex& mu, cogo::Chan<int> o, int id) -> Task<> {
      co_await mu.lock();
      (void)co_await o.send(id);
      mu.unlock();
    }(m, order, i));
    ASSERT_TRUE(until_waiting(static_cast<std::size_t>(i) + 1, WaitReason::sync_mutex_lock));
  }
  m.unlock();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(order.recv()), i);
}

TEST_P(SyncTest, UnlockingAnUnlockedMutexIsAUsageError) {
  cogo::Mutex m;
  EXPECT_THROW(m.unlock(), cogo::usage_error);
}

TEST_P(SyncTest, SemaphoreCapsConcurrency) {
  cogo::Semaphore sem(3);
  std::atomic<int> inside{0}, peak{0};
  cogo::WaitGroup wg;
  for (int t = 0; t < 20; ++t) {
    wg.add(1);
    sched().go([](cogo::Semaphore& s, std::atomic<int>& in, std::atomic<int>& pk,
                  cogo::WaitGroup& w) -> Task<> {
      co_await s.acquire();
      const int now = in.fetch_add(1) + 1;
      int prev = pk.load();
      while (now > prev && !pk.compare_exchange_weak(prev, now)) {
      }
      co_await cogo::yield();
      in.fetch_sub(1);
      s.release();
      w.done();
    }(sem, inside, peak, wg));
  }
  run(wg.wait());
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 1);
  EXPECT_EQ(sem.available(), 3u);
  EXPECT_TRUE(sem.try_acquire());
  EXPECT_EQ(sem.available(), 2u);
  sem.release();
}

TEST_P(SyncTest, OnceRunsItsFunctionExactlyOnce) {
  cogo::Once once;
  std::atomic<int> calls{0};
  cogo::WaitGroup wg;
  for (int t = 0; t < 16; ++t) {
    wg.add(1);
    sched().go([](cogo::Once& o, std::atomic<int>& c, cogo::WaitGroup& w) -> Task<> {
      // The lambda is built in its own statement: g++ 12 mishandles a capturing lambda
      // temporary inside a co_await expression.
      auto init = [&c] { c.fetch_add(1); };
      co_await o.call(init);
      EXPECT_EQ(c.load(), 1);  // whoever returns sees the run finished
      w.done();
    }(once, calls, wg));
  }
  run(wg.wait());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(once.is_done());
}

// As for WaitGroup: once a caller sees the run finished it may free the Once while the
// runner is still returning from it.
TEST_P(SyncTest, OnceMayBeFreedAsSoonAsItIsDone) {
  for (int round = 0; round < 2000; ++round) {
    auto once = std::make_unique<cogo::Once>();
    std::atomic<bool> entered{false};
    // The task runs the function; the main thread frees the Once once it sees the run
    // finished, either as a waiter of call() or by polling is_done().
    sched().go([](cogo::Once& o, std::atomic<bool>& in) -> Task<> {
      auto init = [&in] {
        in.store(true);
        for (int i = 0; i < 50; ++i) std::this_thread::yield();
      };
      co_await o.call(init);
    }(*once, entered));
    while (!entered.load()) std::this_thread::yield();
    if (round % 2 == 0) {
      bool ran = false;
      auto second = [&ran] { ran = true; };
      run(once->call(second));
      EXPECT_FALSE(ran);
    } else {
      while (!once->is_done()) std::this_thread::yield();
    }
    once.reset();
  }
}

TEST_P(SyncTest, OnceThatThrowsIsStillDone) {
  cogo::Once once;
  EXPECT_THROW(run(once.call([] { throw std::runtime_error("init failed"); })), std::runtime_error);
  bool ran_again = false;
  run(once.call([&] { ran_again = true; }));
  EXPECT_FALSE(ran_again);
}

TEST_P(SyncTest, EventWakesEveryWaiter) {
  cogo::Event ev;
  auto woke = cogo::make_chan<int>(5);
  for (int i = 0; i < 5; ++i) {
    sched().go([](cogo::Event& e, cogo::Chan<int> w) -> Task<> {
      co_await e.wait();
      (void)co_await w.send(1);
    }(ev, woke));
  }
  ASSERT_TRUE(until_waiting(5, WaitReason::sync_event));
  EXPECT_FALSE(ev.is_set());
  ev.set();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(run(woke.recv()));
  run(ev.wait());  // set: returns at once
  ev.reset();
  EXPECT_FALSE(ev.is_set());
  auto r = run(cogo::select(ev.wait_case(), cogo::default_case));
  EXPECT_EQ(r.index(), 1u);
}

TEST_P(SyncTest, PrimitivesWorkFromThreads) {
  cogo::WaitGroup wg;
  wg.add(2);
  std::thread a([&] { wg.done(); });
  std::thread b([&] { wg.done(); });
  cogo::sync_wait(wg.wait());
  a.join();
  b.join();
  cogo::Mutex m;
  cogo::sync_wait(m.lock());
  std::thread c([&] { cogo::sync_wait(m.lock()); m.unlock(); });
  m.unlock();
  c.join();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

COGO_RUNTIME_TEST_SUITE(SyncTest);

}  // namespace
