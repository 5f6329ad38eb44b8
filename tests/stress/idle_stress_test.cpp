// The idle protocol's invariants (cogo/detail/idle.hpp), raced on real threads: every
// push is run while workers keep falling asleep (I1, I2), stop reaches every sleeper
// (I3), timers fire while workers park around them (I5), and a task stuck behind its
// waker is taken by an idle worker.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Task;

class IdleStressTest : public cogo::test::RuntimeTest {};

// Receivers park between messages; senders on plain threads push from outside with
// random pauses, so that pushes land while workers announce, recheck and sleep. Every
// message must arrive: the sums are checked.
Task<> receive_all(Chan<int> in, std::atomic<long>& sum) {
  while (auto v = co_await in.recv()) sum.fetch_add(*v, std::memory_order_relaxed);
}

TEST_P(IdleStressTest, EveryPushFromOutsideRunsWhileWorkersFallAsleep) {
  constexpr int kChans = 4;
  const int per_thread = cogo::test::scaled(3000);
  std::vector<Chan<int>> chans;
  std::atomic<long> sum{0};
  for (int i = 0; i < kChans; ++i) {
    chans.push_back(cogo::make_chan<int>());
    sched().go(receive_all(chans.back(), sum));
  }
  std::vector<std::thread> senders;
  for (int t = 0; t < 3; ++t) {
    senders.emplace_back([&, t] {
      std::minstd_rand rng(t + 1);
      for (int i = 1; i <= per_thread; ++i) {
        EXPECT_TRUE(cogo::sync_wait(chans[rng() % kChans].send(i)));
        if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
      }
    });
  }
  for (auto& s : senders) s.join();
  for (auto& c : chans) c.close();
  ASSERT_TRUE(cogo::test::eventually([&] { return sched().live_tasks() == 0; }));
  EXPECT_EQ(sum.load(), 3L * per_thread * (per_thread + 1) / 2);
}

// Tasks wake each other across workers with pauses long enough for workers to park.
Task<> relay(Chan<int> in, Chan<int> out, int pause_us) {
  while (auto v = co_await in.recv()) {
    if (pause_us > 0) co_await cogo::sleep(std::chrono::microseconds(pause_us));
    const bool sent = co_await out.send(*v + 1);
    if (!sent) break;
  }
  out.close();
}

Task<int> run_ring(int hops, int laps) {
  std::vector<Chan<int>> ring;
  for (int i = 0; i < hops; ++i) ring.push_back(cogo::make_chan<int>(1));
  for (int i = 0; i + 1 < hops; ++i) cogo::go(relay(ring[i], ring[i + 1], i % 3 == 0 ? 30 : 0));
  int v = 0;
  for (int lap = 0; lap < laps; ++lap) {
    const bool sent = co_await ring[0].send(v);
    if (!sent) break;
    auto back = co_await ring[hops - 1].recv();
    if (!back) break;
    v = *back;
  }
  ring[0].close();
  while (auto rest = co_await ring[hops - 1].recv()) {
  }
  co_return v;
}

TEST_P(IdleStressTest, WakeUpsBetweenWorkersAndTimersAreNeverLost) {
  const int laps = cogo::test::scaled(400);
  EXPECT_EQ(run(run_ring(6, laps)), laps * 5);
}

// Many timers of random short lengths on every worker at once, with workers parking
// around them: every sleep ends, none early.
Task<> sleep_many(int n, std::uint32_t seed, std::atomic<int>& early, cogo::WaitGroup& wg) {
  std::minstd_rand rng(seed);
  for (int i = 0; i < n; ++i) {
    const auto d = std::chrono::microseconds(rng() % 300);
    const auto start = std::chrono::steady_clock::now();
    co_await cogo::sleep(d);
    if (std::chrono::steady_clock::now() - start < d) early.fetch_add(1);
  }
  wg.done();
}

Task<> sleepers(int tasks, int n, std::atomic<int>& early) {
  cogo::WaitGroup wg;
  for (int i = 0; i < tasks; ++i) {
    wg.add(1);
    cogo::go(sleep_many(n, static_cast<std::uint32_t>(i + 1), early, wg));
  }
  co_await wg.wait();
}

TEST_P(IdleStressTest, TimersFireWhileWorkersParkAroundThem) {
  std::atomic<int> early{0};
  run(sleepers(16, cogo::test::scaled(200), early));
  EXPECT_EQ(early.load(), 0);
}

// A task that wakes another and then keeps its worker busy for a while: the woken task
// must run meanwhile, on another worker, every time.
Task<> note(std::atomic<int>& ran) {
  ran.fetch_add(1);
  co_return;
}

Task<int> wake_and_spin(int rounds) {
  std::atomic<int> ran{0};
  int late = 0;
  for (int i = 0; i < rounds; ++i) {
    cogo::go(note(ran));
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (ran.load() <= i && std::chrono::steady_clock::now() < until) {
    }
    if (ran.load() <= i) ++late;
    co_await cogo::sleep(std::chrono::microseconds(50));  // let the others park again
  }
  co_return late;
}

TEST_P(IdleStressTest, ATaskBehindASpinningWakerIsTakenEveryTime) {
  if (GetParam() < 2) GTEST_SKIP() << "needs a second worker to take it";
  EXPECT_EQ(run(wake_and_spin(cogo::test::scaled(200))), 0);
}

COGO_RUNTIME_TEST_SUITE(IdleStressTest);

// Stop reaches every sleeper: schedulers made and destroyed with their workers in every
// state of the idle path (running, spinning, announcing, asleep, keeping the timers).
Task<> brief(int pause_us, std::atomic<int>& finished) {
  if (pause_us > 0) co_await cogo::sleep(std::chrono::microseconds(pause_us));
  finished.fetch_add(1);
}

TEST(IdleShutdownStressTest, DestroyingSchedulersNeverHangsAndRunsEveryTask) {
  const int rounds = cogo::test::scaled(500);
  std::minstd_rand rng(3);
  std::atomic<int> finished{0};
  int started = 0;
  for (int i = 0; i < rounds; ++i) {
    cogo::Scheduler sched({.workers = 1 + static_cast<unsigned>(i % 4)});
    const int tasks = static_cast<int>(rng() % 4);
    for (int t = 0; t < tasks; ++t) sched.go(brief(static_cast<int>(rng() % 100), finished));
    started += tasks;
    // Destroyed at once, or once its workers have had time to fall asleep.
    if (rng() % 2 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
  }
  EXPECT_EQ(finished.load(), started);
}

}  // namespace
