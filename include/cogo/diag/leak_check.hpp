// Leak checks: tasks, armed timers and pending contexts left behind
//
// find_leaks(options) lists what is still alive beyond a baseline: tasks started with
// go() and not finished, timers armed on any scheduler's clock (Timer, Ticker,
// after_func, context deadlines, a select's after()), and cancelable contexts that are
// neither cancelled nor freed (a CancelFunc kept alive somewhere). Like Go's goleak it
// retries for a short, bounded time first, since tasks that are ending need a moment.
//
// Contexts are listed only while context tracking is on: LeakOptions::ignore_current()
// and the GoogleTest listener (cogo/testing.hpp) turn it on; it then costs one list
// insertion per with_cancel/with_deadline. Without it, find_leaks reports no contexts.
// Timers on a ManualClock used through ManualClock::Scope outside any scheduler are not
// seen.
//
// Thread safety: safe from any thread; it observes, never stops, the running tasks.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "cogo/detail/config.hpp"
#include "cogo/diag/tasks.hpp"

namespace cogo::leaks {

struct LeakedTimer {
  source_location site;  // where the timer, deadline or after() was made
  std::string kind;      // "timer", "context deadline", "after"
  std::chrono::nanoseconds due_in{0};
};

struct LeakedContext {
  source_location site;  // where with_cancel/with_deadline/... was called
  std::string description;
};

// A resource an adapter made and did not release (a socket still open), with the site
// that made it.
struct LeakedResource {
  std::string what;         // "socket"
  source_location site;
  std::string description;  // "127.0.0.1:40122 -> 127.0.0.1:5123"
};

struct Report {
  std::vector<diag::TaskInfo> tasks;
  // Live tasks beyond the baseline that have never waited, so are not listed (running
  // or about to run).
  std::size_t unlisted_tasks = 0;
  std::vector<LeakedTimer> timers;
  std::vector<LeakedContext> contexts;
  std::vector<LeakedResource> resources;  // sockets and the like (cogo::asio)

  bool empty() const noexcept {
    return tasks.empty() && unlisted_tasks == 0 && timers.empty() && contexts.empty() &&
           resources.empty();
  }
  // A summary line per kind, then a level-2 dump of the leaked tasks.
  std::string describe() const;
};

class Options {
 public:
  // Tasks whose start-site function name contains `substring` are not leaks.
  Options& ignore_function(std::string substring);
  // Everything alive now (tasks, armed timers, pending contexts) is not a leak; turns
  // context tracking on.
  Options& ignore_current();
  // How long to retry before reporting (default 1 s).
  Options& timeout(std::chrono::milliseconds t) noexcept;

 private:
  friend Report find_leaks(const Options& options);
  std::vector<std::string> ignored_functions_;
  std::unordered_set<std::uint64_t> ignored_tasks_;
  std::size_t ignored_unlisted_ = 0;
  std::unordered_set<const void*> ignored_timers_;
  std::unordered_set<const void*> ignored_contexts_;
  std::unordered_set<const void*> ignored_resources_;
  std::chrono::milliseconds timeout_{1000};
};

// Lists what leaked; waits up to the options' timeout for it to go away first.
Report find_leaks(const Options& options = Options());

// Turns context tracking on or off (see above) and returns whether it was on. Contexts
// made while it was off are never listed. Tracking allocates a little per context.
bool track_contexts(bool on) noexcept;

}  // namespace cogo::leaks
