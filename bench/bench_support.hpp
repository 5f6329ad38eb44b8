// Helpers for cogo's benchmarks.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>

namespace cogo::bench {

// Bytes the allocator has handed out and not taken back: heap in use.
std::int64_t heap_in_use();

// Reports a figure computed by the benchmark itself (best-of runs, whole-population
// timings) instead of Google Benchmark's time per iteration.
inline void report_ns_per_op(benchmark::State& state, double ns) {
  state.counters["ns_per_op"] = benchmark::Counter(ns);
}
inline void report_bytes_per_op(benchmark::State& state, double bytes) {
  state.counters["bytes_per_op"] = benchmark::Counter(bytes);
}

// Runs `once` (which returns the ns per operation of one run and how long the run took,
// in ns) until at least `min_ns` of runs and at least 3 runs have passed (at most 100),
// and returns the median ns per operation: at least as long as Go's testing.Benchmark
// measures (about a second), and robust to a run that the shared machine slowed down.
struct Run {
  double ns_per_op;
  double wall_ns;
};
double median_ns_per_op(const std::function<Run()>& once, double min_ns = 1e9);

}  // namespace cogo::bench
