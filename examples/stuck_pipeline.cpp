// The filter story: a pipeline that stops moving, and the dumps that say why.
//
// A producer sends each item on an unbuffered channel that nobody reads any more, and
// three filter workers wait on an input channel that nobody closes. Nothing crashes and
// nothing logs; the requests just hang. A level-1 dump groups the stuck tasks by where
// they wait; a level-2 dump shows each one with its await chain, exact line, wait reason
// and how long it has waited. (In a service, install_dump_signal(SIGUSR1) gives the
// same dump on `kill -USR1`.)
#include <cogo/chan.hpp>
#include <cogo/context.hpp>
#include <cogo/diag.hpp>
#include <cogo/scheduler.hpp>
#include <cogo/task.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace {

using namespace std::chrono_literals;

// Passes on the items it accepts. Nobody ever closes `in`.
cogo::Task<bool> filter_one(cogo::Chan<int>& in, cogo::Chan<int>& out) {
  auto item = co_await in.recv();  // the workers stick here: `in` is never closed
  if (!item) co_return false;
  if (*item % 2 == 0) (void)co_await out.send(*item);
  co_return true;
}

cogo::Task<> filter_worker(cogo::Context ctx, cogo::Chan<int> in, cogo::Chan<int> out) {
  cogo::diag::bind_context(ctx);
  while (true) {
    const bool more = co_await filter_one(in, out);
    if (!more) break;
  }
}

// Sends results to a consumer that has gone away.
cogo::Task<> producer(cogo::Chan<int> results) {
  for (int i = 0;; ++i) {
    const bool sent = co_await results.send(i);  // the producer sticks here
    if (!sent) break;
  }
}

}  // namespace

int main() {
  std::cout << "== stuck pipeline: a pipeline that hangs, and the task dumps that say where ==\n";
  auto [request, cancel] = cogo::with_timeout(cogo::background(), 30s);
  auto in = cogo::make_chan<int>();       // unbuffered; the workers' input
  auto out = cogo::make_chan<int>(16);    // the filters' output
  auto results = cogo::make_chan<int>();  // unbuffered, and its reader is gone
  for (int i = 0; i < 3; ++i) cogo::go("filter-worker", filter_worker(request, in, out));
  cogo::go("producer", producer(results));

  std::this_thread::sleep_for(300ms);
  std::cout << "live tasks: " << cogo::num_tasks() << "\n\n== level 1 ==\n";
  cogo::diag::dump_tasks(std::cout, 1);
  std::cout << "== level 2 ==\n";
  cogo::diag::dump_tasks(std::cout, 2);

  // Unstick everything so the program can end: closing lets every task finish.
  in.close();
  results.close();
  return 0;
}
