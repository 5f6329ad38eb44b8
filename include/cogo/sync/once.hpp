// Once
//
// co_await once.call(f) runs f exactly once; concurrent callers wait until it has
// finished. If f throws, the exception reaches the caller that ran it and the Once is done
// all the same (as Go's sync.Once).
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: the Once must outlive the calls on it; a caller that saw it done may destroy
//   it at once.
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
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"

namespace cogo {

class Once {
 public:
  Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  bool is_done() const noexcept { return state_.load(std::memory_order_acquire) == kDone; }

  template <class F>
  class CallAwaiter {
   public:
    CallAwaiter(Once* o, F f, source_location site) : o_(o), f_(std::move(f)), site_(site) {}
    // Moving is for handing an awaiter over before it is awaited (sync_wait, block_on).
    CallAwaiter(CallAwaiter&& o) noexcept(std::is_nothrow_move_constructible_v<F>)
        : o_(o.o_), f_(std::move(o.f_)), site_(o.site_) {}
    bool await_ready() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
      if (o_->is_done()) return true;
      o_->mu_.lock();
      const int state = o_->state_.load(std::memory_order_acquire);
      if (state == kIdle) {
        o_->state_.store(kRunning, std::memory_order_relaxed);
        o_->mu_.unlock();
        run_ = true;
        return true;
      }
      if (state == kDone) {
        o_->mu_.unlock();
        return true;
      }
      // Running elsewhere: flag that a waiter is queuing so that finish() comes for it,
      // unless the run ended meanwhile. Still locked: await_suspend registers and unlocks.
      int expected = kRunning;
      if (!o_->state_.compare_exchange_strong(expected, kRunningWaited, std::memory_order_acq_rel,
                                              std::memory_order_acquire) &&
          expected == kDone) {
        o_->mu_.unlock();
        return true;
      }
      return false;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
      ws_.begin(h);
      ws_.single = true;
      detail::note_wait(detail::WaitReason::sync_once, site_);
      waiter_.ws = &ws_;
      o_->waiters_.push_back(&waiter_);
      detail::Lock& l = o_->mu_;  // not through the frame once unlocked: it may be gone
      l.unlock();
      return true;
    }
    void await_resume() {
      if (ws_.handle) detail::note_running(ws_.task);
      if (!run_) return;
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
    bool run_ = false;
    detail::WaitState ws_;
    detail::ListWaiter waiter_;
  };

  // Runs f the first time; every other call waits until that run has finished.
  template <class F>
    requires std::is_invocable_v<F&>
  [[nodiscard]] CallAwaiter<std::decay_t<F>> call(F&& f,
                                                  source_location where = source_location::current()) {
    return CallAwaiter<std::decay_t<F>>(this, std::forward<F>(f), where);
  }

 private:
  // kRunningWaited: running, and a waiter may be queued. finish() touches the Once after
  // publishing kDone only then, so a caller that saw kDone may destroy it at once.
  static constexpr int kIdle = 0, kRunning = 1, kRunningWaited = 2, kDone = 3;
  void finish() noexcept;

  detail::Lock mu_;
  std::atomic<int> state_{kIdle};
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

}  // namespace cogo
