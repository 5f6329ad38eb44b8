// Scheduler
//
// A fixed pool of worker threads that run tasks. Each worker has a local run queue that
// idle workers steal from, plus a next-to-run slot for the task it just woke, so that two
// tasks talking to each other stay on one worker (Go's runnext); a global queue takes
// work from outside. Idle workers spin briefly, then sleep on a futex. The scheduler's
// timer service (timers, deadlines, sleeps) is driven by its own workers: an idle worker
// sleeps until the earliest deadline. No other thread exists.
//
// The default scheduler, with one worker per hardware thread, is created on first use
// and lives until the process exits. Create others to isolate work or to test with a
// given number of workers or a manual clock.
//
// A task woken by a running task runs on the same worker once the waker waits or yields;
// idle workers steal it only if the waker keeps running. Long computations should
// co_await yield() now and then.
//
// Thread safety: every member is safe from any thread.
// Lifetime: destroying a Scheduler waits until every task started on it has finished,
//   then joins its workers. Tasks blocked forever keep it waiting: end them first (close
//   their channels, cancel their contexts). Destroying it from one of its own workers
//   could never finish: that is reported on stderr and the process aborts.
// Example:
//   cogo::Scheduler sched({.workers = 4});
//   sched.go("producer", produce(ch));
//   int n = sched.block_on(consume(ch));
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/stall.hpp"
#include "cogo/task.hpp"

namespace cogo {

class ManualClock;

namespace detail {
class SchedulerImpl;
template <class R, class A>
Task<> block_on_body(A&& a, void* state);
}  // namespace detail

struct SchedulerOptions {
  // Worker threads; 0 means one per hardware thread.
  unsigned workers = 0;
  // A manual clock for this scheduler's timers and deadlines (tests); null for the
  // steady clock.
  ManualClock* clock = nullptr;
};

class Scheduler {
 public:
  Scheduler();
  explicit Scheduler(SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  template <class T>
  void go(Task<T> task, source_location where = source_location::current()) {
    go(std::string(), std::move(task), where);
  }
  template <class T>
  void go(std::string name, Task<T> task, source_location where = source_location::current()) {
    if (!task) throw usage_error("cogo: Scheduler::go() called with an empty Task");
    auto h = task.release();
    detail::spawn(impl_.get(), h.promise(), h, std::move(name), where);
  }

  // Runs `awaitable` as a task on this scheduler and blocks the calling thread until it
  // completes; returns its value or rethrows its exception. Called on any scheduler's
  // worker (from a task or a callback, where it would block the worker and could wait
  // for ever) it throws usage_error.
  template <class A>
  decltype(auto) block_on(A&& awaitable, source_location where = source_location::current());

  unsigned workers() const noexcept;
  // Tasks started on this scheduler and not finished.
  std::size_t live_tasks() const noexcept;
  // Timers, tickers, sleeps, select timeouts and context deadlines armed on this
  // scheduler's clock and not yet fired or stopped.
  std::size_t armed_timers() const noexcept;

  detail::SchedulerImpl& impl() const noexcept { return *impl_; }

  static Scheduler& default_scheduler();
  // The scheduler whose worker calls this, or null on other threads.
  static Scheduler* current() noexcept;

 private:
  explicit Scheduler(std::unique_ptr<detail::SchedulerImpl> impl) noexcept;
  std::unique_ptr<detail::SchedulerImpl> impl_;
};

// Tasks started with go() on any scheduler and not yet finished (Go's
// runtime.NumGoroutine).
std::size_t num_tasks() noexcept;

// After how long a Scheduler destructor, block_on(), run() or sync_wait() that waits
// with tasks live and none making progress prints, once, what those tasks wait for (a
// level-1 dump, to stderr). Nothing is cancelled. 0 turns the reports off. The default
// is 10 s, or COGO_STALL_REPORT_MS from the environment. Safe from any thread.
void set_stall_report_after(std::chrono::milliseconds d) noexcept;

namespace detail {

// The state a block_on caller waits on.
template <class R>
struct BlockOnState {
  std::atomic<std::uint32_t> done{0};
  std::exception_ptr exception;
  SyncWaitResult<R> result;
};

template <class R, class A>
Task<> block_on_body(A&& a, void* state) {
  auto* st = static_cast<BlockOnState<R>*>(state);
  try {
    if constexpr (std::is_void_v<R>) {
      co_await std::forward<A>(a);
    } else {
      st->result.return_value(co_await std::forward<A>(a));
    }
  } catch (...) {
    st->exception = std::current_exception();
  }
  st->done.store(1, std::memory_order_release);
  futex_wake(st->done, 1);
}

}  // namespace detail

template <class A>
decltype(auto) Scheduler::block_on(A&& awaitable, source_location where) {
  // Blocking a worker until work on a pool finishes can wait for ever: with one worker,
  // the work is queued behind the blocked caller.
  detail::refuse_blocking_wait("Scheduler::block_on", where);
  using R = detail::await_result_t<A&&>;
  detail::BlockOnState<R> st;
  go("block_on", detail::block_on_body<R>(std::forward<A>(awaitable), &st), where);
  if (st.done.load(std::memory_order_acquire) == 0) {
    detail::StallWatch watch("Scheduler::block_on", where);
    while (st.done.load(std::memory_order_acquire) == 0) {
      if (!detail::futex_wait(st.done, 0, detail::StallWatch::next_check())) watch.check();
    }
  }
  if (st.exception) std::rethrow_exception(st.exception);
  return st.result.take();
}

// Go's main: runs `awaitable` (a Task, typically) as a task on the default scheduler,
// blocks the calling thread until it completes, and returns its value or rethrows its
// exception. The task's channel operations and wake-ups then stay on the scheduler's
// workers, next to each other, instead of crossing to the calling thread as they do
// under sync_wait. Throws usage_error on a scheduler worker.
// Example:
//   int main() { return cogo::run(app()); }
template <class A>
decltype(auto) run(A&& awaitable, source_location where = source_location::current()) {
  return Scheduler::default_scheduler().block_on(std::forward<A>(awaitable), where);
}

}  // namespace cogo
