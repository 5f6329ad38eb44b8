// The recheck strand of recheck_strand_test.cpp without any hook: outside pushes of a
// CPU-bound task and a short one, timed at random points of a worker's spin phase, with
// the other worker asleep. Counts the rounds where the short task waited for the whole
// CPU loop while the other worker sat in the idle set (it should start within a wake-up
// latency). Statistical (a few per thousand rounds here); recheck_strand_test.cpp is the
// deterministic proof.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/scheduler.hpp"
#include "review/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

cogo::Task<> cpu_loop(std::chrono::microseconds d, std::atomic<int>& done) {
  const auto end = Clock::now() + d;
  while (Clock::now() < end) {
  }
  done.fetch_add(1);
  co_return;
}

cogo::Task<> record_start(Clock::time_point pushed, std::atomic<long long>& latency_us,
                          std::atomic<int>& done) {
  latency_us.store(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - pushed).count());
  done.fetch_add(1);
  co_return;
}

cogo::Task<> trivial(std::atomic<int>& done) {
  done.fetch_add(1);
  co_return;
}

TEST(ReviewIdle, NaturalRecheckStrand) {
  review::Watchdog wd(115s, "natural recheck strand");
  cogo::Scheduler s({.workers = 2});
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_ns(0, 400'000);
  constexpr auto kLoop = 8000us;
  int strands = 0;
  const int rounds = 4000;  // about 45 s; a strand shows about once per 1500 rounds here
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(2ms);  // both asleep
    std::atomic<int> done{0};
    std::atomic<long long> latency_us{-1};
    s.go(trivial(done));  // a worker wakes, runs it and spins
    const auto until = Clock::now() + std::chrono::nanoseconds(delay_ns(rng));
    while (Clock::now() < until) {
    }
    const auto pushed = Clock::now();
    s.go(cpu_loop(kLoop, done));
    s.go(record_start(pushed, latency_us, done));
    // Halfway through the loop: the short task has not started, yet a worker sits in
    // the idle set (one that wake_one took would have left it): stranded, whatever the
    // OS does with the threads.
    std::this_thread::sleep_until(pushed + kLoop / 2);
    const bool stranded = latency_us.load() < 0 && s.impl().idle_workers() == 1;
    while (done.load() < 3) std::this_thread::sleep_for(100us);
    if (stranded && latency_us.load() >= 7000) ++strands;
  }
  std::printf("rounds %d, strands (second task waited for the whole %lld us loop): %d\n", rounds,
              static_cast<long long>(kLoop.count()), strands);
  EXPECT_EQ(strands, 0);
}

}  // namespace
