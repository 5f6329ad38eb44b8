#include "cogo/sync/weighted_semaphore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <system_error>
#include <thread>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/errgroup.hpp"
#include "cogo/select.hpp"
#include "cogo/sync/wait_group.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Error;
using cogo::Task;
using cogo::WeightedSemaphore;
using cogo::detail::WaitReason;

class WeightedSemaphoreTest : public cogo::test::RuntimeTest {};

// x/sync's HammerWeighted, recording how many units are held at once.
Task<> hammer(WeightedSemaphore& sem, std::int64_t n, int loops, std::atomic<std::int64_t>& held,
              std::atomic<int>& violations, cogo::WaitGroup& wg) {
  for (int i = 0; i < loops; ++i) {
    const Error err = co_await sem.acquire(cogo::background(), n);
    if (err) violations.fetch_add(1);
    if (held.fetch_add(n) + n > sem.size()) violations.fetch_add(1);
    if (i % 4 == 0) co_await cogo::yield();
    held.fetch_sub(n);
    sem.release(n);
  }
  wg.done();
}

TEST_P(WeightedSemaphoreTest, TestWeighted) {
  constexpr int n = 4;
  const int loops = cogo::test::scaled(10000) / n;
  WeightedSemaphore sem(n);
  std::atomic<std::int64_t> held{0};
  std::atomic<int> violations{0};
  cogo::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) sched().go(hammer(sem, i, loops, held, violations, wg));
  run(wg.wait());
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(sem.held(), 0);
}

TEST_P(WeightedSemaphoreTest, TestWeightedPanic) {
  WeightedSemaphore w(1);
  EXPECT_THROW(w.release(1), cogo::usage_error);
  EXPECT_EQ(w.held(), 0);  // unchanged
  ASSERT_TRUE(w.try_acquire(1));
  EXPECT_THROW(w.release(2), cogo::usage_error);
  EXPECT_EQ(w.held(), 1);
  w.release(1);
  EXPECT_THROW(w.release(-1), cogo::usage_error);
  EXPECT_THROW((void)w.acquire_case(2), cogo::usage_error);
  EXPECT_THROW((void)w.acquire(cogo::background(), -1), cogo::usage_error);
  EXPECT_THROW(WeightedSemaphore(-1), cogo::usage_error);
}

TEST_P(WeightedSemaphoreTest, TestWeightedTryAcquire) {
  WeightedSemaphore sem(2);
  std::vector<bool> tries;
  EXPECT_FALSE(run(sem.acquire(cogo::background(), 1)));
  tries.push_back(sem.try_acquire(1));
  tries.push_back(sem.try_acquire(1));
  sem.release(2);
  tries.push_back(sem.try_acquire(1));
  EXPECT_FALSE(run(sem.acquire(cogo::background(), 1)));
  tries.push_back(sem.try_acquire(1));
  EXPECT_EQ(tries, (std::vector<bool>{true, false, true, false}));
}

TEST_P(WeightedSemaphoreTest, TestWeightedAcquire) {
  WeightedSemaphore sem(2);
  auto try_acquire = [&](std::int64_t n) {
    auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 10ms);
    const Error err = run(sem.acquire(ctx, n));
    if (err) {
      EXPECT_EQ(err, cogo::errc::deadline_exceeded) << err;
    }
    return !err;
  };
  std::vector<bool> tries;
  EXPECT_FALSE(run(sem.acquire(cogo::background(), 1)));
  tries.push_back(try_acquire(1));
  tries.push_back(try_acquire(1));
  sem.release(2);
  tries.push_back(try_acquire(1));
  EXPECT_FALSE(run(sem.acquire(cogo::background(), 1)));
  tries.push_back(try_acquire(1));
  EXPECT_EQ(tries, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(sem.held(), 2);  // the failed acquires hold nothing
}

// A request larger than the size fails at once (x/sync blocks it until its context
// ends) and does not hold up the others.
Task<Error> many_small(WeightedSemaphore& sem, int count) {
  cogo::ErrGroup g(cogo::background());
  const cogo::Context ctx = g.context();
  for (int i = 0; i < count; ++i) {
    auto one = [&sem, ctx]() -> Task<Error> {
      Error err = co_await sem.acquire(ctx, 1);
      if (!err) {
        co_await cogo::yield();
        sem.release(1);
      }
      co_return err;
    };
    g.go(one);
  }
  co_return co_await g.wait();
}

TEST_P(WeightedSemaphoreTest, TestWeightedDoesntBlockIfTooBig) {
  constexpr int n = 2;
  WeightedSemaphore sem(n);
  const Error too_big = run(sem.acquire(cogo::background(), n + 1));
  ASSERT_TRUE(too_big);
  EXPECT_TRUE(too_big.is(std::errc::invalid_argument)) << too_big;
  EXPECT_FALSE(run(many_small(sem, n * 3)));
}

// x/sync's TestLargeAcquireDoesntStarve: a request for every unit gets them although
// small ones keep coming.
TEST_P(WeightedSemaphoreTest, TestLargeAcquireDoesntStarve) {
  cogo::test::Watchdog dog("TestLargeAcquireDoesntStarve: the large acquire starved", 60s);
  constexpr std::int64_t n = 4;
  WeightedSemaphore sem(n);
  std::atomic<bool> running{true};
  cogo::WaitGroup wg;
  wg.add(static_cast<int>(n));
  for (std::int64_t i = n; i > 0; --i) {
    ASSERT_FALSE(run(sem.acquire(cogo::background(), 1)));
    sched().go([](WeightedSemaphore& s, std::atomic<bool>& r, cogo::WaitGroup& w) -> Task<> {
      while (r.load()) {
        co_await cogo::yield();
        s.release(1);
        (void)co_await s.acquire(cogo::background(), 1);
      }
      s.release(1);
      w.done();
    }(sem, running, wg));
  }
  EXPECT_FALSE(run(sem.acquire(cogo::background(), n)));
  running.store(false);
  sem.release(n);
  run(wg.wait());
  EXPECT_EQ(sem.held(), 0);
}

// x/sync's TestAllocCancelDoesntStarve: a large waiter at the head that gives up must
// let the small one behind it in.
TEST_P(WeightedSemaphoreTest, TestAllocCancelDoesntStarve) {
  cogo::test::Watchdog dog("TestAllocCancelDoesntStarve: the small acquire starved");
  WeightedSemaphore sem(10);
  ASSERT_FALSE(run(sem.acquire(cogo::background(), 1)));
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto big = cogo::make_chan<Error>(1);
  sched().go([](WeightedSemaphore& s, cogo::Context c, Chan<Error> out) -> Task<> {
    Error err = co_await s.acquire(c, 10);
    (void)co_await out.send(err);
  }(sem, ctx, big));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  EXPECT_FALSE(sem.try_acquire(1));  // queued behind the large one
  std::thread canceller([&cancel = cancel] { cancel(); });
  EXPECT_FALSE(run(sem.acquire(cogo::background(), 1)));
  canceller.join();
  sem.release(1);
  const Error err = *run(big.recv());
  EXPECT_EQ(err, cogo::errc::canceled) << err;
  sem.release(1);
  EXPECT_EQ(sem.held(), 0);
}

// Arrival order: a waiter at the head that does not fit blocks later ones that would.
TEST_P(WeightedSemaphoreTest, AHeadThatDoesNotFitBlocksSmallerOnesBehindIt) {
  WeightedSemaphore sem(2);
  ASSERT_TRUE(sem.try_acquire(2));
  auto order = cogo::make_chan<int>(2);
  auto holder = [](WeightedSemaphore& s, std::int64_t n, Chan<int> o) -> Task<> {
    (void)co_await s.acquire(cogo::background(), n);
    (void)co_await o.send(static_cast<int>(n));
    s.release(n);
  };
  sched().go(holder(sem, 2, order));
  ASSERT_TRUE(until_waiting(1, WaitReason::semacquire));
  sched().go(holder(sem, 1, order));
  ASSERT_TRUE(until_waiting(2, WaitReason::semacquire));
  sem.release(1);  // one unit free: the small one would fit, but waits its turn
  EXPECT_FALSE(order.try_recv());
  sem.release(1);
  EXPECT_EQ(run(order.recv()), 2);
  EXPECT_EQ(run(order.recv()), 1);
}

TEST_P(WeightedSemaphoreTest, AcquireAsASelectCase) {
  WeightedSemaphore sem(3);
  auto r = run(cogo::select(sem.acquire_case(2), cogo::default_case));
  ASSERT_EQ(r.index(), 0u);
  auto busy = run(cogo::select(sem.acquire_case(2), cogo::default_case));
  EXPECT_EQ(busy.index(), 1u);
  EXPECT_EQ(sem.held(), 2);  // the losing case took nothing
  sem.release(2);
}

TEST_P(WeightedSemaphoreTest, WorksFromThreads) {
  WeightedSemaphore sem(3);
  std::atomic<std::int64_t> held{0};
  std::atomic<int> violations{0};
  const int loops = cogo::test::scaled(2000);
  auto body = [&](std::int64_t n) {
    for (int i = 0; i < loops; ++i) {
      if (cogo::sync_wait(sem.acquire(cogo::background(), n))) violations.fetch_add(1);
      if (held.fetch_add(n) + n > 3) violations.fetch_add(1);
      held.fetch_sub(n);
      sem.release(n);
    }
  };
  std::thread a(body, 1), b(body, 2), c(body, 3);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(sem.held(), 0);
}

COGO_RUNTIME_TEST_SUITE(WeightedSemaphoreTest);

}  // namespace
