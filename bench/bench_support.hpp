// Helpers for cogo's benchmarks.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

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

}  // namespace cogo::bench
