#include "cogo/sync/cond.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/select.hpp"
#include "cogo/sync/mutex.hpp"
#include "cogo/sync/wait_group.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using cogo::Chan;
using cogo::Cond;
using cogo::Error;
using cogo::Mutex;
using cogo::Task;
using cogo::detail::WaitReason;

class CondTest : public cogo::test::RuntimeTest {};

// Go's TestCondSignal: each signal wakes exactly one waiter.
TEST_P(CondTest, TestCondSignal) {
  Mutex m;
  Cond c;
  constexpr int n = 2;
  auto running = cogo::make_chan<int>(n), awake = cogo::make_chan<int>(n);
  for (int i = 0; i < n; ++i) {
    sched().go([](Mutex& mu, Cond& cv, Chan<int> r, Chan<int> a) -> Task<> {
      co_await mu.lock();
      (void)co_await r.send(1);
      co_await cv.wait(mu);
      (void)co_await a.send(1);
      mu.unlock();
    }(m, c, running, awake));
  }
  for (int i = 0; i < n; ++i) EXPECT_TRUE(run(running.recv()));  // everyone runs
  for (int left = n; left > 0; --left) {
    EXPECT_FALSE(awake.try_recv()) << "a task is not asleep";
    run(m.lock());  // every waiter that ran is inside wait(), having unlocked m
    c.signal();
    m.unlock();
    EXPECT_TRUE(run(awake.recv()));  // would hang if nobody woke
    EXPECT_FALSE(awake.try_recv()) << "too many tasks awake";
  }
  c.signal();  // nobody waits: no effect
}

// Go's TestCondSignalGenerations: a signal wakes the longest waiter.
TEST_P(CondTest, TestCondSignalGenerations) {
  Mutex m;
  Cond c;
  constexpr int n = 100;
  auto running = cogo::make_chan<int>(n), awake = cogo::make_chan<int>(n);
  for (int i = 0; i < n; ++i) {
    sched().go([](Mutex& mu, Cond& cv, Chan<int> r, Chan<int> a, int id) -> Task<> {
      co_await mu.lock();
      (void)co_await r.send(1);
      co_await cv.wait(mu);
      (void)co_await a.send(id);
      mu.unlock();
    }(m, c, running, awake, i));
    if (i > 0) {
      EXPECT_EQ(run(awake.recv()), i - 1) << "the wrong task woke";
    }
    EXPECT_TRUE(run(running.recv()));
    run(m.lock());
    c.signal();
    m.unlock();
  }
  EXPECT_EQ(run(awake.recv()), n - 1);
}

Task<> broadcast_waiter(Mutex& mu, Cond& cv, const bool& exit, Chan<int> running, Chan<int> awake,
                        int id) {
  co_await mu.lock();
  while (!exit) {
    (void)co_await running.send(id);
    co_await cv.wait(mu);
    (void)co_await awake.send(id);
  }
  mu.unlock();
}

// Go's TestCondBroadcast: broadcast wakes every waiter, each once.
TEST_P(CondTest, TestCondBroadcast) {
  Mutex m;
  Cond c;
  const int n = cogo::test::scaled(200) < 20 ? 20 : 200;
  auto running = cogo::make_chan<int>(n), awake = cogo::make_chan<int>(n);
  bool exit = false;  // guarded by m
  for (int i = 0; i < n; ++i) sched().go(broadcast_waiter(m, c, exit, running, awake, i));
  for (int round = 0; round < n; ++round) {
    for (int i = 0; i < n; ++i) EXPECT_TRUE(run(running.recv()));  // hangs unless n run
    if (round == n - 1) {
      run(m.lock());
      exit = true;
      m.unlock();
    }
    EXPECT_FALSE(awake.try_recv()) << "a task is not asleep";
    run(m.lock());
    c.broadcast();
    m.unlock();
    std::vector<bool> seen(static_cast<std::size_t>(n), false);
    for (int i = 0; i < n; ++i) {
      const int g = *run(awake.recv());
      EXPECT_FALSE(seen[static_cast<std::size_t>(g)]) << "task " << g << " woke twice";
      seen[static_cast<std::size_t>(g)] = true;
    }
  }
  run(m.lock());  // the last round's tasks are on their way out; let them go
  m.unlock();
  c.broadcast();
}

// Go's TestRace: a chain of wait, signal and wait between three tasks.
TEST_P(CondTest, TestRace) {
  Mutex m;
  Cond c;
  int x = 0;  // guarded by m
  std::atomic<int> errors{0};
  cogo::WaitGroup wg;
  wg.add(3);
  sched().go([](Mutex& mu, Cond& cv, int& v, std::atomic<int>& e, cogo::WaitGroup& w) -> Task<> {
    co_await mu.lock();
    v = 1;
    co_await cv.wait(mu);
    if (v != 2) e.fetch_add(1);
    v = 3;
    cv.signal();
    mu.unlock();
    w.done();
  }(m, c, x, errors, wg));
  sched().go([](Mutex& mu, Cond& cv, int& v, cogo::WaitGroup& w) -> Task<> {
    co_await mu.lock();
    while (true) {
      if (v == 1) {
        v = 2;
        cv.signal();
        break;
      }
      mu.unlock();
      co_await cogo::yield();
      co_await mu.lock();
    }
    mu.unlock();
    w.done();
  }(m, c, x, wg));
  sched().go([](Mutex& mu, Cond& cv, int& v, std::atomic<int>& e, cogo::WaitGroup& w) -> Task<> {
    co_await mu.lock();
    while (true) {
      if (v == 2) {
        co_await cv.wait(mu);
        if (v != 3) e.fetch_add(1);
        break;
      }
      if (v == 3) break;
      mu.unlock();
      co_await cogo::yield();
      co_await mu.lock();
    }
    mu.unlock();
    w.done();
  }(m, c, x, errors, wg));
  run(wg.wait());
  EXPECT_EQ(errors.load(), 0);
}

// Go's TestCondSignalStealing: a broadcast racing a new waiter must still wake the
// waiter that was already asleep.
TEST_P(CondTest, TestCondSignalStealing) {
  cogo::test::Watchdog dog("TestCondSignalStealing: the first waiter was never woken", std::chrono::seconds(60));
  const int iterations = cogo::test::scaled(1000);
  for (int iter = 0; iter < iterations; ++iter) {
    Mutex m;
    Cond c;
    auto ch = cogo::make_chan<int>();
    bool done = false;  // guarded by m
    cogo::WaitGroup wg;
    wg.add(2);
    sched().go([](Mutex& mu, Cond& cv, Chan<int> out, cogo::WaitGroup& w) -> Task<> {
      co_await mu.lock();
      (void)co_await out.send(1);
      co_await cv.wait(mu);
      mu.unlock();
      (void)co_await out.send(1);
      w.done();
    }(m, c, ch, wg));
    EXPECT_TRUE(run(ch.recv()));
    run(m.lock());  // the waiter is inside wait(): it unlocked m
    m.unlock();
    sched().go([](Cond& cv) -> Task<> {
      cv.broadcast();
      co_return;
    }(c));
    sched().go([](Mutex& mu, Cond& cv, bool& d, cogo::WaitGroup& w) -> Task<> {
      co_await mu.lock();
      while (!d) co_await cv.wait(mu);
      mu.unlock();
      w.done();
    }(m, c, done, wg));
    EXPECT_TRUE(run(ch.recv()));  // the first waiter is signalled
    run(m.lock());
    done = true;
    m.unlock();
    c.broadcast();
    run(wg.wait());
  }
}

TEST_P(CondTest, WaitWithAContextEndsWhenItIsDoneWithTheMutexRelocked) {
  Mutex m;
  Cond c;
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto result = cogo::make_chan<Error>(1);
  sched().go([](Mutex& mu, Cond& cv, cogo::Context cx, Chan<Error> out) -> Task<> {
    co_await mu.lock();
    Error err = co_await cv.wait(mu, cx);
    const bool relocked = !mu.try_lock();
    mu.unlock();
    if (!relocked) err = Error("the mutex was not relocked");
    (void)co_await out.send(err);
  }(m, c, ctx, result));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  EXPECT_TRUE(m.try_lock());  // released while waiting
  cancel();
  EXPECT_FALSE(result.try_recv());  // cannot return before it has the mutex again
  m.unlock();
  const Error err = *run(result.recv());
  EXPECT_EQ(err, cogo::errc::canceled) << err;
}

TEST_P(CondTest, WaitWithAContextThatIsSignalledReturnsNoError) {
  Mutex m;
  Cond c;
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto result = cogo::make_chan<Error>(1);
  sched().go([](Mutex& mu, Cond& cv, cogo::Context cx, Chan<Error> out) -> Task<> {
    co_await mu.lock();
    Error err = co_await cv.wait(mu, cx);
    mu.unlock();
    (void)co_await out.send(err);
  }(m, c, ctx, result));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  c.signal();
  EXPECT_FALSE(*run(result.recv()));
  // A context that can never end waits as a plain Cond wait.
  sched().go([](Mutex& mu, Cond& cv, Chan<Error> out) -> Task<> {
    co_await mu.lock();
    Error err = co_await cv.wait(mu, cogo::background());
    mu.unlock();
    (void)co_await out.send(err);
  }(m, c, result));
  ASSERT_TRUE(until_waiting(1, WaitReason::sync_cond_wait));
  c.broadcast();
  EXPECT_FALSE(*run(result.recv()));
}

// A signal racing a cancel: either the cancelled wait takes the signal (and reports
// success) or it leaves first and the signal goes to the next waiter. Never both, and
// never neither.
TEST_P(CondTest, ASignalRacingACancelIsNeverLost) {
  cogo::test::Watchdog dog("ASignalRacingACancelIsNeverLost hung", std::chrono::seconds(120));
  const int rounds = cogo::test::scaled(300);
  int first_took_it = 0, second_took_it = 0;
  for (int round = 0; round < rounds; ++round) {
    Mutex m;
    Cond c;
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    auto first = cogo::make_chan<Error>(1);
    auto second = cogo::make_chan<int>(1);
    sched().go([](Mutex& mu, Cond& cv, cogo::Context cx, Chan<Error> out) -> Task<> {
      co_await mu.lock();
      Error err = co_await cv.wait(mu, cx);
      mu.unlock();
      (void)co_await out.send(err);
    }(m, c, ctx, first));
    ASSERT_TRUE(until_waiting(1, WaitReason::select));
    sched().go([](Mutex& mu, Cond& cv, Chan<int> out) -> Task<> {
      co_await mu.lock();
      co_await cv.wait(mu);
      mu.unlock();
      (void)co_await out.send(1);
    }(m, c, second));
    ASSERT_TRUE(until_waiting(1, WaitReason::sync_cond_wait));
    std::thread canceller([&cancel = cancel] { cancel(); });
    c.signal();
    canceller.join();
    const Error err = *run(first.recv());
    if (!err) {
      ++first_took_it;
      EXPECT_FALSE(second.try_recv());
      c.signal();  // release the second
    } else {
      ++second_took_it;
      EXPECT_EQ(err, cogo::errc::canceled);
    }
    EXPECT_TRUE(run(second.recv()));
  }
  EXPECT_EQ(first_took_it + second_took_it, rounds);
}

// No lost wake-up between unlocking the mutex and waiting: producers and consumers on
// threads and tasks, every item consumed.
TEST_P(CondTest, ProducersAndConsumersLoseNoWakeUp) {
  cogo::test::Watchdog dog("ProducersAndConsumersLoseNoWakeUp: a wake-up was lost", std::chrono::seconds(120));
  Mutex m;
  Cond c;
  long items = 0;     // guarded by m
  long consumed = 0;  // guarded by m
  const int per_producer = cogo::test::scaled(2000);
  constexpr int kProducers = 3, kConsumers = 3;
  const long total = static_cast<long>(per_producer) * kProducers;
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cogo::WaitGroup wg;
  wg.add(kConsumers);
  for (int i = 0; i < kConsumers; ++i) {
    sched().go([](Mutex& mu, Cond& cv, long& it, long& done, long all, cogo::Context cx, int id,
                  cogo::WaitGroup& w) -> Task<> {
      co_await mu.lock();
      while (done < all) {
        if (it == 0) {
          if (id == 0) {
            co_await cv.wait(mu, cx);  // the select path
          } else {
            co_await cv.wait(mu);
          }
          continue;
        }
        --it;
        ++done;
        if (done == all) cv.broadcast();  // let the other consumers see the end
      }
      mu.unlock();
      w.done();
    }(m, c, items, consumed, total, ctx, i, wg));
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < per_producer; ++i) {
        cogo::sync_wait(m.lock());
        ++items;
        m.unlock();
        c.signal();  // outside the lock, as Go allows
        if (i % 4 == 0) std::this_thread::yield();  // let the consumers drain and wait
      }
    });
  }
  for (auto& t : producers) t.join();
  run(wg.wait());
  EXPECT_EQ(consumed, total);
  EXPECT_EQ(items, 0);
}

TEST_P(CondTest, WaitingWithAnUnlockedMutexIsAUsageError) {
  Mutex m;
  Cond c;
  EXPECT_THROW(run(c.wait(m)), cogo::usage_error);
  EXPECT_THROW(run(c.wait(m, cogo::background())), cogo::usage_error);
  c.signal();  // nothing was left listed
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST_P(CondTest, WorksFromThreads) {
  Mutex m;
  Cond c;
  bool ready = false;  // guarded by m
  std::thread waiter([&] {
    cogo::sync_wait(m.lock());
    while (!ready) cogo::sync_wait(c.wait(m));
    m.unlock();
  });
  cogo::sync_wait(m.lock());
  ready = true;
  m.unlock();
  c.broadcast();
  waiter.join();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

COGO_RUNTIME_TEST_SUITE(CondTest);

}  // namespace
