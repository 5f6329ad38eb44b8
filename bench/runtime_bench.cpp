// Runtime workloads of shared/anchors/WORKLOADS.md: channels, select, tasks, errgroup.
//
// Each runs as a task on the default scheduler (one worker per hardware thread, as Go's
// GOMAXPROCS), does a fixed number of operations per run and reports the median time per
// operation over runs lasting at least a second in all (as long as Go's
// testing.Benchmark measures), so the figure does not depend on how Google Benchmark
// counts CPU time on a thread that only waits, nor on one run the machine slowed down.
// The task registry is on, as in production.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "bench_support.hpp"
#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/errgroup.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/select.hpp"
#include "cogo/sync.hpp"
#include "cogo/task.hpp"
#include "cogo/timer.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double ns_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

// Runs `task` on the default scheduler and returns the wall time it took.
double run_ns(cogo::Task<> task) {
  const auto t0 = Clock::now();
  cogo::Scheduler::default_scheduler().block_on(std::move(task));
  return ns_since(t0);
}

// The median ns per operation of runs of the task `make()` returns, each doing `ops`
// operations, over at least a second (bench_support.hpp).
template <class Make>
double median_of(Make make, double ops) {
  return cogo::bench::median_ns_per_op([&] {
    const double ns = run_ns(make());
    return cogo::bench::Run{ns / ops, ns};
  });
}

// ---------------------------------------------------------------- chan_pingpong

cogo::Task<> echo(cogo::Chan<int> in, cogo::Chan<int> out) {
  while (auto v = co_await in.recv()) (void)co_await out.send(*v);
  out.close();
}

cogo::Task<> pingpong(int n) {
  auto a = cogo::make_chan<int>(0);
  auto c = cogo::make_chan<int>(0);
  cogo::go(echo(a, c));
  for (int i = 0; i < n; ++i) {
    (void)co_await a.send(i);
    co_await c.recv();
  }
  a.close();
  co_await c.recv();  // the echo task has closed c: it is finishing
}

// One round trip over two unbuffered channels between two tasks.
void chan_pingpong(benchmark::State& state) {
  constexpr int kN = 100000;
  for (auto _ : state) cogo::bench::report_ns_per_op(state, median_of([] { return pingpong(kN); }, kN));
}
BENCHMARK(chan_pingpong)->Iterations(1);

// ---------------------------------------------------------------- chan_buffered_spsc

cogo::Task<> drain(cogo::Chan<int> ch, cogo::WaitGroup& wg) {
  for (;;) {
    auto v = co_await ch.recv();
    if (!v) break;
  }
  wg.done();
}

cogo::Task<> produce(cogo::Chan<int> ch, int n, cogo::WaitGroup& wg) {
  for (int i = 0; i < n; ++i) (void)co_await ch.send(i);
  wg.done();
}

cogo::Task<> spsc(int n) {
  auto ch = cogo::make_chan<int>(1024);
  cogo::WaitGroup done;
  done.add(1);
  cogo::go(drain(ch, done));
  for (int i = 0; i < n; ++i) (void)co_await ch.send(i);
  ch.close();
  co_await done.wait();
}

// One item through a capacity-1024 channel, one producer task, one consumer task.
void chan_buffered_spsc(benchmark::State& state) {
  constexpr int kN = 500000;
  for (auto _ : state) cogo::bench::report_ns_per_op(state, median_of([] { return spsc(kN); }, kN));
}
BENCHMARK(chan_buffered_spsc)->Iterations(1);

// ---------------------------------------------------------------- chan_mpmc_4x4

cogo::Task<> mpmc(int per) {
  auto ch = cogo::make_chan<int>(1024);
  cogo::WaitGroup producers;
  cogo::WaitGroup consumers;
  producers.add(4);
  consumers.add(4);
  for (int p = 0; p < 4; ++p) cogo::go(produce(ch, per, producers));
  for (int c = 0; c < 4; ++c) cogo::go(drain(ch, consumers));
  co_await producers.wait();
  ch.close();
  co_await consumers.wait();
}

// One item through a capacity-1024 channel, 4 producer tasks, 4 consumer tasks.
void chan_mpmc_4x4(benchmark::State& state) {
  constexpr int kPer = 125000;
  for (auto _ : state) {
    cogo::bench::report_ns_per_op(state, median_of([] { return mpmc(kPer); }, 4.0 * kPer));
  }
}
BENCHMARK(chan_mpmc_4x4)->Iterations(1);

// ---------------------------------------------------------------- select_2_ready

cogo::Task<> select_loop(int n, long& sum) {
  auto x = cogo::make_chan<int>(1);
  auto y = cogo::make_chan<int>(1);
  for (int i = 0; i < n; ++i) {
    (void)co_await y.send(i);
    auto r = co_await cogo::select(x.recv(), y.recv());
    const auto& v = r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
    sum += *v;
  }
}

// A select over two buffered channels, one of them ready.
void select_2_ready(benchmark::State& state) {
  constexpr int kN = 500000;
  for (auto _ : state) {
    long sum = 0;
    cogo::bench::report_ns_per_op(state, median_of([&sum] { return select_loop(kN, sum); }, kN));
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(select_2_ready)->Iterations(1);

// ---------------------------------------------------------------- after_in_loop_1m

cogo::Task<> after_loop(int n, std::int64_t& held, double& ns) {
  auto ready = cogo::make_chan<int>(1);
  const std::int64_t before = cogo::bench::heap_in_use();
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    (void)co_await ready.send(i);
    co_await cogo::select(cogo::after(5s), ready.recv());
  }
  ns = ns_since(t0) / n;
  held = cogo::bench::heap_in_use() - before;
}

// 1,000,000 iterations of: a value into a ready channel, then a select on it and on a
// fresh 5 s timeout; bytes still held right after the loop.
void after_in_loop_1m(benchmark::State& state) {
  constexpr int kN = 1000000;
  for (auto _ : state) {
    std::int64_t held = 0;
    double ns = 0;
    cogo::Scheduler::default_scheduler().block_on(after_loop(kN, held, ns));
    cogo::bench::report_ns_per_op(state, ns);
    cogo::bench::report_bytes_per_op(state, held > 0 ? static_cast<double>(held) / kN : 0.0);
  }
}
BENCHMARK(after_in_loop_1m)->Iterations(1);

// ---------------------------------------------------------------- spawn_join

cogo::Task<> signal_done(cogo::WaitGroup& wg) {
  wg.done();
  co_return;
}

cogo::Task<> spawn_all(int n) {
  cogo::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) cogo::go(signal_done(wg));
  co_await wg.wait();
}

// Start a task that only signals a wait group, then wait for all.
void spawn_join(benchmark::State& state) {
  constexpr int kN = 200000;
  for (auto _ : state) cogo::bench::report_ns_per_op(state, median_of([] { return spawn_all(kN); }, kN));
}
BENCHMARK(spawn_join)->Iterations(1);

// ---------------------------------------------------------------- parked_tasks_1m

cogo::Task<> park_on(cogo::Chan<int> block, cogo::WaitGroup& started, cogo::WaitGroup& ended) {
  started.done();
  co_await block.recv();
  ended.done();
}

cogo::Task<> park_all(int n, double& ns, std::int64_t& held) {
  const std::int64_t before = cogo::bench::heap_in_use();
  auto block = cogo::make_chan<int>(0);
  cogo::WaitGroup started;
  cogo::WaitGroup ended;
  started.add(n);
  ended.add(n);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) cogo::go(park_on(block, started, ended));
  co_await started.wait();
  ns = ns_since(t0) / n;
  held = cogo::bench::heap_in_use() - before;
  block.close();
  co_await ended.wait();
}

// Start 1,000,000 tasks that each block on one channel; per task: ns to start, bytes
// held while parked.
void parked_tasks_1m(benchmark::State& state) {
  constexpr int kN = 1000000;
  for (auto _ : state) {
    double ns = 0;
    std::int64_t held = 0;
    cogo::Scheduler::default_scheduler().block_on(park_all(kN, ns, held));
    cogo::bench::report_ns_per_op(state, ns);
    cogo::bench::report_bytes_per_op(state, static_cast<double>(held) / kN);
  }
}
BENCHMARK(parked_tasks_1m)->Iterations(1);

// ---------------------------------------------------------------- errgroup_fanout_10k

cogo::Task<> fanout(const cogo::Context& parent, int groups) {
  for (int g = 0; g < groups; ++g) {
    cogo::ErrGroup group(parent);
    for (int j = 0; j < 10000; ++j) {
      auto member = [&group, j]() -> cogo::Error {
        if (group.context().err()) return {};
        if (j == 9999) return cogo::Error("boom");
        return {};
      };
      group.go(member);
    }
    const cogo::Error err = co_await group.wait();
    benchmark::DoNotOptimize(err);
  }
}

// One group of 10,000 tasks on a cancel-cause context, the last one failing; per group.
void errgroup_fanout_10k(benchmark::State& state) {
  // Groups of 20 per run, runs for at least a second: a few hundred groups in all.
  constexpr int kGroups = 20;
  auto [parent, cancel] = cogo::with_cancel(cogo::background());
  for (auto _ : state) {
    cogo::bench::report_ns_per_op(state, median_of([&parent] { return fanout(parent, kGroups); }, kGroups));
  }
}
BENCHMARK(errgroup_fanout_10k)->Iterations(1);

}  // namespace
