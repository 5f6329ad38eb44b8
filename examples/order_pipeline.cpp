// The time.After-in-a-loop story, done the cogo way. Orders flow through a channel to a
// payment backend; each one waits for its result with a 5 s timeout, first as a select
// case after(5s), then as a with_timeout context. A million orders later the process
// holds as many tasks and armed timers as it did at the start: each timeout leaves the
// timer service the moment its select returns.
#include <cogo/chan.hpp>
#include <cogo/context.hpp>
#include <cogo/scheduler.hpp>
#include <cogo/select.hpp>
#include <cogo/task.hpp>
#include <cogo/timer.hpp>

#include <chrono>
#include <cstdio>

namespace {

using namespace std::chrono_literals;

constexpr int kOrders = 1'000'000;
constexpr int kReportEvery = 250'000;

// Charges each order it is sent and replies with the order's amount in cents.
cogo::Task<> payment_backend(cogo::Chan<int> requests, cogo::Chan<int> results) {
  while (auto order = co_await requests.recv()) (void)co_await results.send(*order % 1000 + 1);
  results.close();
}

void report(const char* phase, int done, int timeouts) {
  auto& sched = cogo::Scheduler::default_scheduler();
  std::printf("  %-12s %8d orders  %d timeouts  live tasks: %zu  armed timers: %zu\n", phase,
              done, timeouts, sched.live_tasks(), sched.armed_timers());
}

// Go's leaking loop, `select { case r := <-results: ... case <-time.After(5s): ... }`.
cogo::Task<long> with_after(cogo::Chan<int> requests, cogo::Chan<int> results) {
  long cents = 0;
  int timeouts = 0;
  for (int i = 1; i <= kOrders; ++i) {
    (void)co_await requests.send(i);
    auto r = co_await cogo::select(results.recv(), cogo::after(5s));
    if (r.index() == 0) {
      cents += *std::get<0>(r);
    } else {
      ++timeouts;
    }
    if (i % kReportEvery == 0) report("after(5s)", i, timeouts);
  }
  co_return cents;
}

// The same with a per-order context, as a handler that passes the deadline on would do.
cogo::Task<long> with_context(cogo::Chan<int> requests, cogo::Chan<int> results) {
  long cents = 0;
  int timeouts = 0;
  for (int i = 1; i <= kOrders; ++i) {
    {
      auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 5s);
      (void)co_await requests.send(i);
      auto r = co_await cogo::select(results.recv(), ctx.done());
      if (r.index() == 0) {
        cents += *std::get<0>(r);
      } else {
        ++timeouts;
      }
    }  // the order's CancelFunc goes here, and its deadline timer with it
    if (i % kReportEvery == 0) report("with_timeout", i, timeouts);
  }
  co_return cents;
}

cogo::Task<> run() {
  auto requests = cogo::make_chan<int>(0);
  auto results = cogo::make_chan<int>(0);
  cogo::go("payment-backend", payment_backend(requests, results));
  report("start", 0, 0);
  const long a = co_await with_after(requests, results);
  const long b = co_await with_context(requests, results);
  requests.close();
  co_await results.recv();  // the backend closed it on its way out
  std::printf("  charged %ld + %ld cents\n", a, b);
}

}  // namespace

int main() {
  std::printf("== order pipeline: a 5 s timeout per order, %d orders twice ==\n", kOrders);
  const auto t0 = std::chrono::steady_clock::now();
  cogo::Scheduler::default_scheduler().block_on(run());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  done in %.2f s; armed timers: %zu\n", s,
              cogo::Scheduler::default_scheduler().armed_timers());
}
