// Once
//
// co_await once.call(f) runs f exactly once; concurrent callers wait until it has
// finished. If f throws, the exception reaches the caller that ran it and the Once is done
// all the same (as Go's sync.Once).
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: the Once must outlive the calls on it; a caller that saw it done (call()
//   returned, or is_done() was true) may destroy it at once, while no other call is in
//   progress.
// Awaiting: the awaiter holds no lock between its calls; an adaptor may call
//   await_ready() twice or drop the awaiter after it. One dropped after it claimed the
//   run (await_ready() returned true for the first caller) hands the run to the next
//   caller instead of leaving everyone waiting.
// Memory ordering: f happens-before every call() returns.
// Complexity: O(1) per call, plus O(waiters woken).
// Example:
//   co_await init.call([&] { table = load(); });
#pragma once

#include <atomic>
#include <exception>
#include <type_traits>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/task_fwd.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"

namespace cogo {

class Once {
  // A caller queued behind the run; `run` is set when a dropped claimant hands it the run.
  struct Waiter : detail::ListWaiter {
    bool run = false;
  };

 public:
  Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // True once the run has finished. A caller that sees true may destroy the Once.
  bool is_done() const noexcept;

  template <class F>
  class CallAwaiter {
   public:
    CallAwaiter(Once* o, F f, source_location site) : o_(o), f_(std::move(f)), site_(site) {}
    // Moving is for handing an awaiter over before it is awaited (sync_wait, block_on);
    // a run already claimed goes with it.
    CallAwaiter(CallAwaiter&& o) noexcept(std::is_nothrow_move_constructible_v<F>)
        : o_(o.o_), f_(std::move(o.f_)), site_(o.site_), run_(std::exchange(o.run_, false)) {}
    CallAwaiter(const CallAwaiter&) = delete;
    CallAwaiter& operator=(const CallAwaiter&) = delete;
    // Dropped after claiming the run but before starting it: the run goes to the next
    // caller, so that nobody waits for a run that will never happen.
    ~CallAwaiter() {
      if (run_ && !started_) o_->abandon();
    }

    // Claims the run if nobody has, or sees it finished; holds no lock afterwards.
    bool await_ready() noexcept { return run_ || o_->poll(run_); }
    // Looks again under the lock, then queues behind the run in progress.
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      ws_.begin(h);
      ws_.single = true;
      waiter_.ws = &ws_;
      return o_->wait(waiter_, run_, site_);
    }
    void await_resume() {
      if (ws_.handle) {
        detail::note_running(ws_.task);
        // Queued, a dropped claimant may have handed its run to this caller; or
        // await_suspend found the run free and claimed it without queueing.
        run_ = run_ || waiter_.run;
      }
      if (!run_) return;
      started_ = true;
      try {
        f_();
      } catch (...) {
        o_->finish();
        throw;
      }
      o_->finish();
    }

   private:
    Once* o_;
    F f_;
    source_location site_;
    bool run_ = false;      // this caller runs f
    bool started_ = false;  // and has started it
    detail::WaitState ws_;
    Waiter waiter_;
  };

  // Runs f the first time; every other call waits until that run has finished. f runs
  // inline on the claiming caller; a callable returning a cogo::Task is refused at
  // compile time (it would be dropped unstarted).
  template <class F>
    requires std::is_invocable_v<F&>
  [[nodiscard]] CallAwaiter<std::decay_t<F>> call(F&& f,
                                                  source_location where = source_location::current()) {
    static_assert(!detail::returns_task_v<std::decay_t<F>>,
                  "cogo::Once::call: f returns a cogo::Task, which would be dropped unstarted "
                  "while the Once reports itself done; f runs inline and must not be a "
                  "coroutine");
    return CallAwaiter<std::decay_t<F>>(this, std::forward<F>(f), where);
  }

 private:
  // kRunningWaited: running, and a waiter may be queued. finish() then publishes the end
  // under the lock, as kDoneLocked, and whoever sees kDoneLocked takes the lock before
  // treating the run as finished; so nobody sees the Once finished while finish() still
  // uses it, and a caller that saw it finished may destroy it at once. An uncontended run
  // ends with one compare-exchange to kDone and touches nothing after it.
  static constexpr int kIdle = 0, kRunning = 1, kRunningWaited = 2, kDone = 3, kDoneLocked = 4;

  // await_ready: true if finished, or if this claimed the run (then `run` is set).
  bool poll(bool& run) noexcept;
  // await_suspend: queues `w` behind the run, or returns false (finished, or claimed:
  // `run` is set).
  bool wait(Waiter& w, bool& run, const source_location& site) noexcept;
  void finish() noexcept;
  void abandon() noexcept;

  mutable detail::Lock mu_;
  std::atomic<int> state_{kIdle};
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

}  // namespace cogo
