#include "cogo/sync/rw_mutex.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/select.hpp"
#include "cogo/sync/wait_group.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Chan;
using cogo::RWMutex;
using cogo::Task;
using cogo::detail::WaitReason;

class RWMutexTest : public cogo::test::RuntimeTest {};

// Go's TestParallelReaders: every reader holds the lock at once.
Task<> parallel_reader(RWMutex& m, Chan<int> locked, Chan<int> unlock, Chan<int> done) {
  co_await m.rlock();
  (void)co_await locked.send(1);
  (void)co_await unlock.recv();
  m.runlock();
  (void)co_await done.send(1);
}

TEST_P(RWMutexTest, TestParallelReaders) {
  for (int readers : {1, 3, 4}) {
    RWMutex m;
    auto locked = cogo::make_chan<int>(), unlock = cogo::make_chan<int>(), done = cogo::make_chan<int>();
    for (int i = 0; i < readers; ++i) sched().go(parallel_reader(m, locked, unlock, done));
    // Every read lock is taken before any is released.
    for (int i = 0; i < readers; ++i) EXPECT_TRUE(run(locked.recv()));
    EXPECT_FALSE(m.try_lock());
    for (int i = 0; i < readers; ++i) EXPECT_TRUE(run(unlock.send(1)));
    for (int i = 0; i < readers; ++i) EXPECT_TRUE(run(done.recv()));
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  }
}

// Go's TestRWMutex: the try forms, then HammerRWMutex with readers and two writers that
// record who is inside: readers count 1 each, writers 10000.
TEST_P(RWMutexTest, TestRWMutexTryForms) {
  RWMutex m;
  ASSERT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock());
  EXPECT_FALSE(m.try_rlock());
  m.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
  EXPECT_TRUE(m.try_rlock());
  EXPECT_TRUE(m.try_rlock());
  EXPECT_FALSE(m.try_lock());
  m.runlock();
  m.runlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

Task<> hammer_reader(RWMutex& m, int iterations, std::atomic<int>& activity,
                     std::atomic<int>& violations, cogo::WaitGroup& wg) {
  for (int i = 0; i < iterations; ++i) {
    co_await m.rlock();
    const int n = activity.fetch_add(1) + 1;
    if (n < 1 || n >= 10000) violations.fetch_add(1);
    if (i % 8 == 0) co_await cogo::yield();  // hold it across a suspension now and then
    activity.fetch_sub(1);
    m.runlock();
  }
  wg.done();
}

Task<> hammer_writer(RWMutex& m, int iterations, std::atomic<int>& activity,
                     std::atomic<int>& violations, cogo::WaitGroup& wg) {
  for (int i = 0; i < iterations; ++i) {
    co_await m.lock();
    const int n = activity.fetch_add(10000) + 10000;
    if (n != 10000) violations.fetch_add(1);
    if (i % 8 == 0) co_await cogo::yield();
    activity.fetch_sub(10000);
    m.unlock();
  }
  wg.done();
}

TEST_P(RWMutexTest, TestRWMutexHammer) {
  const int iterations = cogo::test::scaled(1000);
  for (int readers : {1, 3, 10, 5}) {
    RWMutex m;
    std::atomic<int> activity{0}, violations{0};
    cogo::WaitGroup wg;
    wg.add(2 + readers);
    sched().go(hammer_writer(m, iterations, activity, violations, wg));
    int i = 0;
    for (; i < readers / 2; ++i) sched().go(hammer_reader(m, iterations, activity, violations, wg));
    sched().go(hammer_writer(m, iterations, activity, violations, wg));
    for (; i < readers; ++i) sched().go(hammer_reader(m, iterations, activity, violations, wg));
    run(wg.wait());
    EXPECT_EQ(violations.load(), 0) << readers << " readers";
    EXPECT_EQ(activity.load(), 0);
  }
}

// Go's TestRLocker: with two read locks held, a writer waits until both are released,
// and while it holds the lock no reader gets in.
TEST_P(RWMutexTest, TestRLocker) {
  RWMutex m;
  auto wlocked = cogo::make_chan<int>(1), rlocked = cogo::make_chan<int>(1);
  constexpr int n = 10;
  sched().go([](RWMutex& mu, Chan<int> w, Chan<int> r) -> Task<> {
    for (int i = 0; i < n; ++i) {
      co_await mu.rlock();
      co_await mu.rlock();
      (void)co_await r.send(1);
      co_await mu.lock();
      (void)co_await w.send(1);
    }
  }(m, wlocked, rlocked));
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(run(rlocked.recv()));
    ASSERT_TRUE(until_waiting(1, WaitReason::sync_rwmutex_lock));
    m.runlock();
    EXPECT_FALSE(wlocked.try_recv()) << "the writer got in past a read lock";
    m.runlock();
    EXPECT_TRUE(run(wlocked.recv()));
    EXPECT_FALSE(rlocked.try_recv()) << "a reader got in past the write lock";
    m.unlock();
  }
}

// A waiting writer stops new readers; it gets the lock once the readers already inside
// leave, and the reader that queued behind it gets in when it unlocks.
TEST_P(RWMutexTest, AWaitingWriterStopsNewReaders) {
  RWMutex m;
  ASSERT_TRUE(m.try_rlock());
  auto order = cogo::make_chan<std::string>(4);
  sched().go([](RWMutex& mu, Chan<std::string> o) -> Task<> {
    co_await mu.lock();
    (void)co_await o.send("writer");
    mu.unlock();
  }(m, order));
  ASSERT_TRUE(until_waiting(1, WaitReason::sync_rwmutex_lock));
  EXPECT_FALSE(m.try_rlock());  // the writer waits: no new reader
  sched().go([](RWMutex& mu, Chan<std::string> o) -> Task<> {
    co_await mu.rlock();
    (void)co_await o.send("reader");
    mu.runlock();
  }(m, order));
  ASSERT_TRUE(until_waiting(1, WaitReason::sync_rwmutex_rlock));
  EXPECT_FALSE(order.try_recv());
  m.runlock();
  EXPECT_EQ(run(order.recv()), "writer");
  EXPECT_EQ(run(order.recv()), "reader");
}

// When a writer unlocks, every reader that queued while it held the lock gets in before
// the next writer, which then waits for them.
TEST_P(RWMutexTest, UnlockLetsQueuedReadersInBeforeTheNextWriter) {
  RWMutex m;
  ASSERT_TRUE(m.try_lock());
  auto in = cogo::make_chan<int>(8), out = cogo::make_chan<int>();
  for (int i = 0; i < 3; ++i) {
    sched().go([](RWMutex& mu, Chan<int> entered, Chan<int> leave, int id) -> Task<> {
      co_await mu.rlock();
      (void)co_await entered.send(id);
      (void)co_await leave.recv();
      mu.runlock();
    }(m, in, out, i));
  }
  ASSERT_TRUE(until_waiting(3, WaitReason::sync_rwmutex_rlock));
  sched().go([](RWMutex& mu, Chan<int> entered) -> Task<> {
    co_await mu.lock();
    (void)co_await entered.send(100);
    mu.unlock();
  }(m, in));
  ASSERT_TRUE(until_waiting(1, WaitReason::sync_rwmutex_lock));
  m.unlock();
  int sum = 0;
  for (int i = 0; i < 3; ++i) sum += *run(in.recv());
  EXPECT_EQ(sum, 0 + 1 + 2);  // the three readers, all inside at once
  EXPECT_FALSE(in.try_recv());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(run(out.send(1)));
  EXPECT_EQ(run(in.recv()), 100);
}

// A writer whose select another case wins leaves the queue: the readers it held back
// must then get in.
TEST_P(RWMutexTest, AWriterThatLeavesUnservedLetsTheReadersItHeldBackIn) {
  RWMutex m;
  ASSERT_TRUE(m.try_rlock());
  auto giveup = cogo::make_chan<int>(1), result = cogo::make_chan<int>(2);
  sched().go([](RWMutex& mu, Chan<int> stop, Chan<int> r) -> Task<> {
    auto s = co_await cogo::select(mu.lock_case(), stop.recv());
    if (s.index() == 0) mu.unlock();
    (void)co_await r.send(static_cast<int>(s.index()));
  }(m, giveup, result));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  sched().go([](RWMutex& mu, Chan<int> r) -> Task<> {
    co_await mu.rlock();
    mu.runlock();
    (void)co_await r.send(7);
  }(m, result));
  ASSERT_TRUE(until_waiting(1, WaitReason::sync_rwmutex_rlock));
  EXPECT_TRUE(run(giveup.send(1)));
  EXPECT_EQ(run(result.recv()), 1);  // the writer gave up
  EXPECT_EQ(run(result.recv()), 7);  // and the reader got in beside the first one
  m.runlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST_P(RWMutexTest, CasesInASelect) {
  RWMutex m;
  auto r = run(cogo::select(m.lock_case(), cogo::default_case));
  ASSERT_EQ(r.index(), 0u);  // free: the writer case wins
  auto busy = run(cogo::select(m.rlock_case(), cogo::default_case));
  EXPECT_EQ(busy.index(), 1u);
  m.unlock();
  auto rd = run(cogo::select(m.rlock_case(), cogo::default_case));
  ASSERT_EQ(rd.index(), 0u);
  m.runlock();
}

TEST_P(RWMutexTest, GuardsReleaseWhenDestroyed) {
  RWMutex m;
  run([](RWMutex& mu) -> Task<> {
    {
      auto r1 = co_await mu.scoped_rlock();
      auto r2 = co_await mu.scoped_rlock();
      EXPECT_FALSE(mu.try_lock());
    }
    {
      auto w = co_await mu.scoped_lock();
      EXPECT_FALSE(mu.try_rlock());
    }
  }(m));
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST_P(RWMutexTest, UnlockingWhatIsNotHeldIsAUsageError) {
  RWMutex m;
  EXPECT_THROW(m.runlock(), cogo::usage_error);
  EXPECT_THROW(m.unlock(), cogo::usage_error);
  ASSERT_TRUE(m.try_rlock());
  EXPECT_THROW(m.unlock(), cogo::usage_error);  // a read lock is not the write lock
  m.runlock();
  ASSERT_TRUE(m.try_lock());
  EXPECT_THROW(m.runlock(), cogo::usage_error);
  m.unlock();
}

TEST_P(RWMutexTest, WorksFromThreads) {
  RWMutex m;
  std::atomic<int> inside{0}, violations{0};
  const int iterations = cogo::test::scaled(2000);
  auto body = [&](bool writer) {
    for (int i = 0; i < iterations; ++i) {
      if (writer) {
        cogo::sync_wait(m.lock());
        if (inside.fetch_add(10000) != 0) violations.fetch_add(1);
        inside.fetch_sub(10000);
        m.unlock();
      } else {
        cogo::sync_wait(m.rlock());
        if (inside.fetch_add(1) >= 10000) violations.fetch_add(1);
        inside.fetch_sub(1);
        m.runlock();
      }
    }
  };
  std::thread w1(body, true), r1(body, false), r2(body, false), w2(body, true);
  w1.join();
  r1.join();
  r2.join();
  w2.join();
  EXPECT_EQ(violations.load(), 0);
}

COGO_RUNTIME_TEST_SUITE(RWMutexTest);

}  // namespace
