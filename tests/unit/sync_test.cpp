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
#include "support/watchdog.hpp"

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

Task<> done_once(cogo::WaitGroup& wg) {
  wg.done();
  co_return;
}

// Spins until a wait on `wg` sees the count at zero, by polling without queueing, or by
// reading count(); the caller frees `wg` at once.
void spin_until_zero(cogo::WaitGroup& wg, bool by_select) {
  if (by_select) {
    while (cogo::sync_wait(cogo::select(wg.wait_case(), cogo::default_case)).index() != 0) {
    }
  } else {
    while (wg.count() != 0) {
    }
  }
}

// A poll that does not queue (a select with default_case, or one another case wins)
// leaves done() believing a waiter may be queued, so the done() that reaches zero takes
// the WaitGroup's lock. A waiter that sees zero may free the WaitGroup at once: done()
// must not touch it after any wait can see zero. ASan and TSan report it if it does.
TEST_P(SyncTest, WaitGroupMayBeFreedAfterAPollThatDidNotQueue) {
  const int rounds = cogo::test::scaled(20000);
  auto ready = cogo::make_chan<int>(1);
  for (int round = 0; round < rounds; ++round) {
    auto wg = std::make_unique<cogo::WaitGroup>();
    wg->add(1);
    if (round % 2 == 0) {
      const auto r = cogo::sync_wait(cogo::select(wg->wait_case(), cogo::default_case));
      ASSERT_EQ(r.index(), 1u);
    } else {
      // Another case ready at once: the wait case may be polled first, and loses.
      ASSERT_TRUE(ready.try_send(round));
      const auto r = cogo::sync_wait(cogo::select(wg->wait_case(), ready.recv()));
      ASSERT_EQ(r.index(), 1u);
    }
    sched().go(done_once(*wg));
    spin_until_zero(*wg, round % 4 < 2);
    wg.reset();
  }
}

// The same after a select that queued on the WaitGroup and then lost to another case:
// its leaving must not leave done() believing a waiter is still queued.
TEST_P(SyncTest, WaitGroupMayBeFreedAfterALostSelect) {
  const int rounds = cogo::test::scaled(1000);
  for (int round = 0; round < rounds; ++round) {
    auto wg = std::make_unique<cogo::WaitGroup>();
    wg->add(1);
    // Buffered, so that a test that fails does not hang on them.
    auto wake = cogo::make_chan<int>(1);
    auto lost = cogo::make_chan<int>(1);
    sched().go([](cogo::WaitGroup& w, cogo::Chan<int> in, cogo::Chan<int> out) -> Task<> {
      auto r = co_await cogo::select(w.wait_case(), in.recv());
      (void)co_await out.send(static_cast<int>(r.index()));
    }(*wg, wake, lost));
    ASSERT_TRUE(until_waiting(1, WaitReason::select));
    ASSERT_TRUE(cogo::sync_wait(wake.send(1)));
    ASSERT_EQ(cogo::sync_wait(lost.recv()), 1);  // the channel won; the wait case left
    sched().go(done_once(*wg));
    spin_until_zero(*wg, round % 2 == 0);
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

// An adaptor may call await_ready() twice, or drop the awaiter after it: the awaiter
// holds no lock between its calls, and a run it claimed but never started goes to the
// next caller.
TEST_P(SyncTest, OnceAwaiterHoldsNoLockBetweenItsCalls) {
  cogo::test::Watchdog dog("Once: await_ready() twice, or a dropped awaiter, hung");
  cogo::Once once;
  std::atomic<bool> release{false};
  std::atomic<bool> entered{false};
  // A run in progress on a worker, so that other callers have to wait.
  sched().go([](cogo::Once& o, std::atomic<bool>& in, std::atomic<bool>& rel) -> Task<> {
    auto init = [&in, &rel] {
      in.store(true);
      while (!rel.load()) std::this_thread::yield();
    };
    co_await o.call(init);
  }(once, entered, release));
  while (!entered.load()) std::this_thread::yield();
  bool ran = false;
  auto second = [&ran] { ran = true; };
  {
    auto a = once.call(second);
    EXPECT_FALSE(a.await_ready());
    EXPECT_FALSE(a.await_ready());  // again: no lock of its own to deadlock on
  }                                 // dropped without suspending
  EXPECT_FALSE(once.is_done());
  release.store(true);
  run(once.call(second));  // waits for the run, which must be able to finish
  EXPECT_TRUE(once.is_done());
  EXPECT_FALSE(ran);
}

TEST_P(SyncTest, OnceRunClaimedByADroppedAwaiterGoesToTheNextCaller) {
  cogo::test::Watchdog dog("Once: a run claimed by a dropped awaiter was never handed on");
  {
    cogo::Once once;
    bool first = false, second = false;
    auto f1 = [&first] { first = true; };
    auto f2 = [&second] { second = true; };
    {
      auto a = once.call(f1);
      EXPECT_TRUE(a.await_ready());  // claims the run
      EXPECT_TRUE(a.await_ready());  // and keeps it
    }                                // dropped before await_resume: f1 never ran
    EXPECT_FALSE(once.is_done());
    run(once.call(f2));
    EXPECT_FALSE(first);
    EXPECT_TRUE(second);
    EXPECT_TRUE(once.is_done());
  }
  {
    // The same with a caller already waiting for the claimed run: it takes it over.
    cogo::Once once;
    std::atomic<int> runs{0};
    auto f = [&runs] { runs.fetch_add(1); };
    auto a = std::make_unique<cogo::Once::CallAwaiter<decltype(f)>>(once.call(f));
    EXPECT_TRUE(a->await_ready());
    auto finished = cogo::make_chan<int>(1);
    sched().go([](cogo::Once& o, decltype(f) g, cogo::Chan<int> out) -> Task<> {
      co_await o.call(g);
      (void)co_await out.send(1);
    }(once, f, finished));
    ASSERT_TRUE(until_waiting(1, WaitReason::sync_once));
    a.reset();
    EXPECT_EQ(run(finished.recv()), 1);
    EXPECT_EQ(runs.load(), 1);
    EXPECT_TRUE(once.is_done());
  }
}

// await_ready() saw the run in progress; by await_suspend() its claimant was dropped:
// await_suspend() claims the run itself and does not suspend.
TEST_P(SyncTest, OnceAwaitSuspendClaimsARunFreedAfterAwaitReady) {
  cogo::Once once;
  bool first = false, second = false;
  auto f1 = [&first] { first = true; };
  auto f2 = [&second] { second = true; };
  auto a = std::make_unique<cogo::Once::CallAwaiter<decltype(f1)>>(once.call(f1));
  ASSERT_TRUE(a->await_ready());  // claims the run
  auto b = once.call(f2);
  ASSERT_FALSE(b.await_ready());  // in progress
  a.reset();                      // the claimant goes without running f1
  EXPECT_FALSE(b.await_suspend(std::noop_coroutine()));  // free again: b claims it
  b.await_resume();
  EXPECT_TRUE(second);
  EXPECT_FALSE(first);
  EXPECT_TRUE(once.is_done());
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
