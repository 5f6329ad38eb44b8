// Context workloads of shared/anchors/WORKLOADS.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include "bench_support.hpp"
#include "cogo/context.hpp"

namespace {

using namespace std::chrono_literals;

// Derive a cancelable child of a cancelable parent, then cancel it.
void ctx_with_cancel(benchmark::State& state) {
  auto [parent, pcancel] = cogo::with_cancel(cogo::background());
  for (auto _ : state) {
    auto [ctx, cancel] = cogo::with_cancel(parent);
    cancel();
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(ctx_with_cancel);

// Derive a child with a 1 h timeout from a cancelable parent, then cancel it.
void ctx_with_timeout(benchmark::State& state) {
  auto [parent, pcancel] = cogo::with_cancel(cogo::background());
  for (auto _ : state) {
    auto [ctx, cancel] = cogo::with_timeout(parent, 1h);
    cancel();
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(ctx_with_timeout);

// Derive a value child (one key) from a cancelable parent.
void ctx_with_value(benchmark::State& state) {
  static const cogo::Key<long> key{"key"};
  auto [parent, pcancel] = cogo::with_cancel(cogo::background());
  long i = 0;
  for (auto _ : state) {
    cogo::Context ctx = cogo::with_value(parent, key, i++);
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(ctx_with_value);

// Look up the key stored 32 value-levels above the context asked.
void ctx_value_depth32(benchmark::State& state) {
  std::vector<std::unique_ptr<cogo::Key<int>>> keys;
  auto [parent, pcancel] = cogo::with_cancel(cogo::background());
  cogo::Context ctx = parent;
  for (int i = 0; i < 32; ++i) {
    keys.push_back(std::make_unique<cogo::Key<int>>("key"));
    ctx = cogo::with_value(ctx, *keys.back(), i);
  }
  const cogo::Key<int>& first = *keys.front();
  long s = 0;
  for (auto _ : state) {
    s += *ctx.value(first);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(ctx_value_depth32);

// Register a callback on a cancelable context, then unregister it.
void ctx_after_func(benchmark::State& state) {
  auto [parent, pcancel] = cogo::with_cancel(cogo::background());
  for (auto _ : state) {
    auto stop = cogo::after_func(parent, [] {});
    benchmark::DoNotOptimize(stop.stop());
  }
}
BENCHMARK(ctx_after_func);

// Cancel a root with 100,000 direct cancelable children, until every child reports done;
// per child, best of 5.
void ctx_cancel_fanout_100k(benchmark::State& state) {
  constexpr int kChildren = 100000;
  for (auto _ : state) {
    double best = 1e18;
    for (int rep = 0; rep < 5; ++rep) {
      auto [root, rc] = cogo::with_cancel(cogo::background());
      std::vector<cogo::Cancelable<cogo::CancelFunc>> kids;
      kids.reserve(kChildren);
      for (int i = 0; i < kChildren; ++i) kids.push_back(cogo::with_cancel(root));
      const auto t0 = std::chrono::steady_clock::now();
      rc();
      for (auto& k : kids) k.ctx.wait();
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, ns / kChildren);
    }
    cogo::bench::report_ns_per_op(state, best);
  }
}
BENCHMARK(ctx_cancel_fanout_100k)->Iterations(1);

// Cancel the root of a 10,000-deep chain, until the leaf reports done; per level, best of 5.
void ctx_cancel_chain_10k(benchmark::State& state) {
  constexpr int kDepth = 10000;
  for (auto _ : state) {
    double best = 1e18;
    for (int rep = 0; rep < 5; ++rep) {
      auto [root, rc] = cogo::with_cancel(cogo::background());
      std::vector<cogo::CancelFunc> cancels;
      cancels.reserve(kDepth);
      cogo::Context leaf = root;
      for (int i = 0; i < kDepth; ++i) {
        auto r = cogo::with_cancel(leaf);
        leaf = r.ctx;
        cancels.push_back(std::move(r.cancel));
      }
      const auto t0 = std::chrono::steady_clock::now();
      rc();
      leaf.wait();
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, ns / kDepth);
    }
    cogo::bench::report_ns_per_op(state, best);
  }
}
BENCHMARK(ctx_cancel_chain_10k)->Iterations(1);

}  // namespace
