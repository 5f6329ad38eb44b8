// Go's scheduler fairness tests, ported: a ping-pong pair must not starve the rest of
// its worker (time.TestAfterFuncStarvation, Go issue 65178), and tasks sharing one
// worker take turns.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Task;

Task<> send_until(std::atomic<bool>& stop, Chan<bool> c, cogo::WaitGroup& wg) {
  while (!stop.load()) {
    const bool sent = co_await c.send(true);  // bound: g++ 12 miscompiles `if (!co_await ...)`
    if (!sent) break;
  }
  c.close();
  wg.done();
}

Task<> drain(Chan<bool> c, cogo::WaitGroup& wg) {
  while (auto v = co_await c.recv()) {
  }
  wg.done();
}

// Starts `pairs` ping-pong pairs on buffered channels of one element and stops them from
// an after_func(1us) made in a task of the same scheduler: at any moment one task of
// each pair is runnable, so the callback runs only if the pairs yield their worker.
Task<> starve(int pairs, std::atomic<bool>& stop, cogo::WaitGroup& wg) {
  for (int i = 0; i < pairs; ++i) {
    auto c = cogo::make_chan<bool>(1);
    wg.add(2);
    cogo::go(send_until(stop, c, wg));
    cogo::go(drain(c, wg));
  }
  auto t = cogo::after_func(1us, [&stop] { stop.store(true); });
  co_await wg.wait();
}

TEST(GoSchedTest, TestAfterFuncStarvation) {
  cogo::Scheduler sched({.workers = 1});
  std::atomic<bool> stop{false};
  cogo::WaitGroup wg;
  sched.block_on(starve(1, stop, wg));
  EXPECT_TRUE(stop.load());
}

TEST(GoSchedTest, TestAfterFuncStarvationOnTheDefaultScheduler) {
  // workers() + 1 pairs: every worker has a pair, and one has two.
  std::atomic<bool> stop{false};
  cogo::WaitGroup wg;
  const int pairs = static_cast<int>(cogo::Scheduler::default_scheduler().workers()) + 1;
  cogo::run(starve(pairs, stop, wg));
  EXPECT_TRUE(stop.load());
}

// Two pairs on one worker both make progress: each gets a fair share of hand-offs.
Task<> ping_pong(Chan<int> in, Chan<int> out, std::atomic<bool>& stop, std::atomic<long>& rounds) {
  while (!stop.load()) {
    const bool sent = co_await out.send(1);
    if (!sent) break;
    auto v = co_await in.recv();
    if (!v) break;
    rounds.fetch_add(1, std::memory_order_relaxed);
  }
  out.close();
}

Task<> echo(Chan<int> in, Chan<int> out) {
  while (auto v = co_await in.recv()) {
    const bool sent = co_await out.send(*v);
    if (!sent) break;
  }
  out.close();
}

TEST(GoSchedTest, TwoPingPongPairsOnOneWorkerShareIt) {
  cogo::Scheduler sched({.workers = 1});
  std::atomic<bool> stop{false};
  std::atomic<long> a{0}, b{0};
  for (std::atomic<long>* rounds : {&a, &b}) {
    auto x = cogo::make_chan<int>(), y = cogo::make_chan<int>();
    sched.go(echo(x, y));
    sched.go(ping_pong(y, x, stop, *rounds));
  }
  ASSERT_TRUE(cogo::test::eventually([&] { return a.load() > 20000 && b.load() > 20000; }, 20s))
      << "a=" << a.load() << " b=" << b.load();
  stop.store(true);
}

Task<> yield_once(std::atomic<int>& yields) {
  co_await cogo::yield();
  yields.fetch_add(1);
}

Task<> pair_then_yielder(std::atomic<bool>& stop, std::atomic<int>& yields, cogo::WaitGroup& wg) {
  auto c = cogo::make_chan<bool>(1);
  wg.add(2);
  cogo::go(send_until(stop, c, wg));
  cogo::go(drain(c, wg));
  co_await yield_once(yields);  // this task yields behind the pair's hand-offs
  stop.store(true);
  co_await wg.wait();
}

TEST(GoSchedTest, AYieldingTaskRunsBesideAPingPongPair) {
  cogo::Scheduler sched({.workers = 1});
  std::atomic<bool> stop{false};
  std::atomic<int> yields{0};
  cogo::WaitGroup wg;
  sched.block_on(pair_then_yielder(stop, yields, wg));
  EXPECT_EQ(yields.load(), 1);
}

}  // namespace
