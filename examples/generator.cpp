// The generator pattern: a producer task feeds a channel until its consumer has had
// enough and cancels. The producer is not left blocked on a send nobody will receive (the
// leak Go's pipelines article warns about): it selects on the context too, and says why
// it stopped.
#include <cogo/chan.hpp>
#include <cogo/context.hpp>
#include <cogo/scheduler.hpp>
#include <cogo/select.hpp>
#include <cogo/sync.hpp>
#include <cogo/task.hpp>

#include <cstdio>

namespace {

// Sends 1, 2, 3, ... until ctx is done.
cogo::Task<> count_up(cogo::Context ctx, cogo::Chan<int> out, cogo::WaitGroup& stopped) {
  for (int n = 1;; ++n) {
    auto r = co_await cogo::select(out.send(n), ctx.done());
    if (r.index() == 1) {
      std::printf("  producer stopped after %d values: %s\n", n - 1,
                  cogo::cause(ctx).to_string().c_str());
      break;
    }
  }
  stopped.done();
}

cogo::Task<> consume() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto numbers = cogo::make_chan<int>(0);
  cogo::WaitGroup stopped;
  stopped.add(1);
  cogo::go("count-up", count_up(ctx, numbers, stopped));
  int sum = 0;
  for (int i = 0; i < 5; ++i) {
    auto v = co_await numbers.recv();
    std::printf("  got %d\n", *v);
    sum += *v;
  }
  std::printf("  consumer has enough (sum %d) and cancels\n", sum);
  cancel();
  co_await stopped.wait();
}

}  // namespace

int main() {
  std::printf("== generator: a producer task on a channel, stopped by its consumer's context ==\n");
  cogo::Scheduler::default_scheduler().block_on(consume());
}
