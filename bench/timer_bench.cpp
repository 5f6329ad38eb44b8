// Timer workloads of shared/anchors/WORKLOADS.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "bench_support.hpp"
#include "cogo/timer.hpp"

namespace {

using namespace std::chrono_literals;

// Arm a 1 h timer and stop it.
void timer_create_stop(benchmark::State& state) {
  for (auto _ : state) {
    cogo::Timer t(1h);
    benchmark::DoNotOptimize(t.stop());
  }
}
BENCHMARK(timer_create_stop);

// Arm 1,000,000 timers of 1 h; per timer: ns to arm, bytes held while armed. The vector
// of handles is allocated before measuring (Go subtracts its slice the same way).
void timer_pending_1m(benchmark::State& state) {
  constexpr int kTimers = 1000000;
  for (auto _ : state) {
    std::vector<cogo::Timer> timers;
    timers.reserve(kTimers);
    const std::int64_t before = cogo::bench::heap_in_use();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kTimers; ++i) timers.emplace_back(1h);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    const std::int64_t after = cogo::bench::heap_in_use();
    for (auto& t : timers) t.stop();
    cogo::bench::report_ns_per_op(state, ns / kTimers);
    cogo::bench::report_bytes_per_op(state, static_cast<double>(after - before) / kTimers);
  }
}
BENCHMARK(timer_pending_1m)->Iterations(1);

}  // namespace
