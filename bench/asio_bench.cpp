// TCP workloads of shared/anchors/WORKLOADS.md: 64-byte echo over loopback, client and
// server in this process, on the default scheduler (one worker per hardware thread).
//
// Each connection has its own client task and server task, as Go's side has goroutines.
// Both ends of a connection are made by one task, so they belong to the same worker
// (cogo/asio/io.hpp: a socket belongs to the worker it was made on, and a task follows
// its socket's completions there), and the connections spread over the workers as
// those tasks do. Connections are set up before the clock starts; the figure is the
// median over runs of the total time divided by the total round trips.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "bench_support.hpp"
#include "cogo/asio/tcp.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "cogo/task.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::Listener;

constexpr std::size_t kMessage = 64;

// Reads exactly 64 bytes and writes them back, until the peer closes.
Task<> echo_server(Conn c) {
  char buf[kMessage];
  for (;;) {
    auto r = co_await c.read(cogo::background(), boost::asio::buffer(buf));
    if (r.error) break;
    auto w = co_await c.write(cogo::background(), boost::asio::buffer(buf));
    if (w.error) break;
  }
  (void)c.close();
}

// One connection: dials a listener of its own and accepts, so that both ends belong to
// the worker this task runs on, spawns the server task, waits at `start` until every
// connection is made, then does `n` round trips as the client.
Task<> echo_pair(int n, cogo::WaitGroup& made, cogo::WaitGroup& start, cogo::WaitGroup& done) {
  auto [ln, lerr] = cogo::asio::listen("127.0.0.1:0");
  auto [c, derr] = co_await cogo::asio::dial(cogo::background(), ln.address());
  auto [s, aerr] = co_await ln.accept(cogo::background());
  (void)ln.close();
  made.done();
  const bool ok = !lerr && !derr && !aerr;
  if (ok) cogo::go(echo_server(std::move(s)));
  co_await start.wait();
  char buf[kMessage] = {};
  for (int i = 0; i < n && ok; ++i) {
    auto w = co_await c.write(cogo::background(), boost::asio::buffer(buf));
    if (w.error) break;
    auto r = co_await c.read(cogo::background(), boost::asio::buffer(buf));
    if (r.error) break;
  }
  (void)c.close();
  done.done();
}

// One run: `conns` connections, `per` round trips each; the ns the round trips took.
Task<> echo_run(int conns, int per, double& ns) {
  cogo::WaitGroup made, start, done;
  made.add(conns);
  start.add(1);
  done.add(conns);
  for (int i = 0; i < conns; ++i) cogo::go(echo_pair(per, made, start, done));
  co_await made.wait();
  const auto t0 = Clock::now();
  start.done();
  co_await done.wait();
  ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

double echo_median(int conns, int per) {
  const double ops = static_cast<double>(conns) * per;
  return cogo::bench::median_ns_per_op([&] {
    double ns = 0;
    cogo::Scheduler::default_scheduler().block_on(echo_run(conns, per, ns));
    return cogo::bench::Run{ns / ops, ns};
  });
}

// One 64-byte round trip over one loopback TCP connection.
void tcp_echo_1conn(benchmark::State& state) {
  for (auto _ : state) cogo::bench::report_ns_per_op(state, echo_median(1, 20000));
}
BENCHMARK(tcp_echo_1conn)->Iterations(1);

// The same over 50 connections at once; total time over total round trips.
void tcp_echo_50conn(benchmark::State& state) {
  for (auto _ : state) cogo::bench::report_ns_per_op(state, echo_median(50, 2000));
}
BENCHMARK(tcp_echo_50conn)->Iterations(1);

}  // namespace
