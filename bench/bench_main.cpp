// cogo_bench: the workloads with Google Benchmark's own reporting and flags.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
