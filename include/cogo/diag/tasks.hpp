// Task registry: what every task is doing, and dumps of it
//
// Every task started with go() is registered while it lives (unless the build turns the
// registry off with the CMake option COGO_TASK_REGISTRY=OFF): its id, name, start site
// and parent; whether it is runnable, running or waiting; and for a waiting task why
// (in Go's words: "chan receive", "select", "sync.Mutex.Lock", ...), where (the site of
// the co_await, captured by the awaitable's factory) and since when.
//
// num_tasks()              (cogo/scheduler.hpp) live tasks on every scheduler.
// diag::tasks()            a copy of the record of every live task that has waited at
//                          least once (a task is listed from its first suspension, so
//                          one that runs to its end without waiting costs no lock).
// diag::dump_tasks(os, 1)  tasks grouped by (start site, wait reason, wait site), with
//                          counts, largest group first (Go's goroutine?debug=1).
// diag::dump_tasks(os, 2)  each task Go-style: `task 17 "worker" [chan send, 3.2s]:`,
//                          its await chain innermost first (function names from the
//                          frames' resume addresses), `started by`, and its context.
// diag::bind_context(ctx)  names the context a task serves, for level-2 dumps.
// diag::install_dump_signal(SIGUSR1)  a level-2 dump to stderr on each signal.
//
// Thread safety: every function is safe from any thread and any task at once.
// Cost: a dump locks one registry shard at a time, only long enough to copy its
//   records (about 100 ns a task); tasks keep running meanwhile, and a task that changes
//   state while it is copied is read again. Formatting happens after, with no lock held.
// Durations are exact (monotonic clock, coarse: within a few milliseconds).
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/detail/config.hpp"

namespace cogo {

namespace diag {

enum class TaskState : std::uint8_t { runnable, running, waiting };

// One frame of a task's await chain.
struct Frame {
  const void* function = nullptr;  // the frame's resume function
  std::string name;                // its symbol, demangled, or "?" when unknown
};

struct TaskInfo {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;  // 0: started from outside any task
  std::string name;
  source_location start_site;
  TaskState state = TaskState::runnable;
  // For a waiting task:
  std::string wait_reason;        // "chan receive", "select", ...
  std::string wait_detail;        // on what, if the wait says ("read 127.0.0.1:5123")
  source_location wait_site;      // the co_await's site
  std::chrono::nanoseconds waiting_for{0};
  // The await chain, outermost frame first; `chain_depth` may exceed chain.size() when
  // the chain is deeper than the registry remembers.
  std::vector<Frame> chain;
  std::uint32_t chain_depth = 0;
  std::optional<Context> context;  // from bind_context
};

// A copy of the record of every live task that has suspended at least once, in no
// particular order. Frame names are filled
// in. Empty when the registry is compiled out.
std::vector<TaskInfo> tasks();

// Writes a dump of `list` (or of every live task) at `level` 1 or 2 (see above).
void dump_tasks(std::ostream& os, int level = 2);
void dump_tasks(std::ostream& os, const std::vector<TaskInfo>& list, int level);

// Records `ctx` as the context the calling task serves; dumps print its describe().
// Outside a task it does nothing. A later call replaces the earlier binding; the task
// holds a reference until it ends.
void bind_context(const Context& ctx);

// On each `signo`, writes a level-2 dump to stderr. The handler only writes one byte
// to a pipe; one thread, started by the first call, takes the dump. Throws
// std::system_error if the pipe, the thread or the handler cannot be set up.
void install_dump_signal(int signo = SIGUSR1);

// The demangled name of the function containing `address`, or "?".
std::string symbolize(const void* address);

}  // namespace diag
}  // namespace cogo
