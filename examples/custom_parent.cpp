// A context whose cancellation comes from outside cogo: here a "connection" that reports
// its own end. Children of it - a cancel child, a timeout child and an after_func - are
// cancelled with its cause, and no thread is started to watch it: the thread count is
// the same before and after.
#include <dirent.h>

#include <cogo/custom_context.hpp>
#include <cogo/timer.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

class Connection : public cogo::CustomContext {
 public:
  explicit Connection(const cogo::Context& parent) : CustomContext(parent, "net.Connection") {}
  // Called by the I/O layer when the peer goes away.
  void closed_by_peer() {
    cancel(cogo::Error(std::make_error_code(std::errc::connection_reset), "peer closed"));
  }
};

}  // namespace

int main() {
  std::cout << "== custom parent: a context cancelled by its own source (a connection), no watcher thread ==\n";
  // Start cogo's fixed background threads first (the timer driver, the callback
  // executor): they exist once per process, never per context.
  { cogo::Timer warm(1ms); (void)warm.wait(); }
  {
    auto [c, cancel] = cogo::with_cancel(cogo::background());
    auto f = cogo::after_func(c, [] {});
    cancel();
  }
  const int before = thread_count();

  auto conn = cogo::make_context<Connection>(cogo::background());
  auto [child, cancel_child] = cogo::with_cancel(conn->context());
  auto [timed, cancel_timed] = cogo::with_timeout(conn->context(), 1h);
  std::atomic<bool> callback_ran{false};
  auto stop = cogo::after_func(conn->context(), [&] { callback_ran = true; });
  std::cout << "threads before: " << before << ", with the custom parent and 3 children: "
            << thread_count() << "\n";

  conn->closed_by_peer();
  std::cout << "cancel child:  " << child.err() << "\n   cause: " << cogo::cause(child) << "\n";
  std::cout << "timeout child: " << timed.err() << "\n   context: " << timed << "\n";
  while (!callback_ran) std::this_thread::yield();
  std::cout << "after_func ran; threads now: " << thread_count() << "\n";
  return thread_count() == before ? 0 : 1;
}
