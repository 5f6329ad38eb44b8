// The hunt for "context canceled", resolved in one line.
//
// A request passes through three layers: the server gives it a context, a handler adds a
// per-request deadline, and a repository query waits on the result. Three layers up,
// the server notices that the client has gone and cancels the request's context. The
// query fails with "context canceled", which in Go says neither who cancelled nor why.
// One process-wide cogo::diag::on_cancel hook logs each cancellation once, at its
// origin, with its cause and site; and the query's own error already names them.
#include <cogo/chan.hpp>
#include <cogo/context.hpp>
#include <cogo/diag.hpp>
#include <cogo/scheduler.hpp>
#include <cogo/select.hpp>
#include <cogo/sync.hpp>
#include <cogo/task.hpp>
#include <cogo/timer.hpp>

#include <chrono>
#include <iostream>

namespace {

using namespace std::chrono_literals;

// Layer 3: waits for a database row that never comes before the request is cancelled.
cogo::Task<cogo::Error> query_orders(cogo::Context ctx, cogo::Chan<int> rows) {
  auto r = co_await cogo::select(rows.recv(), ctx.done());
  if (r.index() == 1) co_return std::get<1>(r);
  co_return cogo::Error();
}

// Layer 2: the handler, with its own deadline.
cogo::Task<cogo::Error> handle_list_orders(cogo::Context request, cogo::Chan<int> rows) {
  auto [ctx, cancel] = cogo::with_timeout(request, 2s);
  co_return co_await query_orders(ctx, rows);
}

// Layer 1: the server. The client disconnects while the handler runs.
cogo::Task<> serve_one(cogo::Chan<int> rows) {
  auto [request, cancel] = cogo::with_cancel_cause(cogo::background());
  cogo::WaitGroup wg;
  wg.add(1);
  cogo::go("list-orders", [](cogo::Context r, cogo::Chan<int> c, cogo::WaitGroup& w) -> cogo::Task<> {
    const cogo::Error err = co_await handle_list_orders(r, c);
    std::cout << "handler: list orders failed: " << err << "\n";
    w.done();
  }(request, rows, wg));
  co_await cogo::sleep(20ms);
  cancel(cogo::Error("client disconnected (connection reset by peer)"));  // the origin
  co_await wg.wait();
}

}  // namespace

int main() {
  std::cout << "== cancel hunt: a client disconnect three layers up, named in one log line ==\n";
  // The one line: every cancellation in the process, logged once at its origin.
  cogo::diag::on_cancel([](const cogo::diag::CancelEvent& e) {
    std::cout << "cancel: " << e.cause << "\n        context: " << e.context << "\n";
  });
  cogo::Scheduler sched;
  auto rows = cogo::make_chan<int>();
  sched.block_on(serve_one(rows));
  cogo::diag::on_cancel({});
  std::cout << "\ncancellations by origin:\n";
  for (const auto& c : cogo::diag::cancel_counts()) {
    std::cout << "  " << c.count << " x " << c.code << " at " << c.file << ":" << c.line << "\n";
  }
  return 0;
}
