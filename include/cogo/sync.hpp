// WaitGroup, Mutex, Semaphore, Once, Event
//
// Synchronisation for tasks that suspends the task, never the worker thread. Every wait
// is an awaitable, usable from threads through sync_wait; WaitGroup::wait(),
// Mutex::lock(), Semaphore::acquire() and Event::wait() are also select cases.
//
// WaitGroup: add(n) before starting work, done() when a piece ends, co_await wait() for
//   the count to reach zero. A counter that would go negative is refused with
//   cogo::usage_error and left unchanged (Go panics).
// Mutex: co_await lock(), unlock(). Under contention ownership passes to waiters in
//   arrival order. unlock() of an unlocked Mutex throws usage_error. co_await
//   scoped_lock() returns a guard that unlocks when destroyed.
// Semaphore(n): n permits; co_await acquire(), try_acquire(), release(k). Waiters are
//   served in arrival order.
// Once: co_await once.call(f) runs f exactly once; concurrent callers wait for it to
//   finish. If f throws, the exception reaches the caller that ran it and the Once is
//   done all the same (as Go's).
// Event: a flag tasks wait on: set() wakes every waiter, reset() clears it.
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: an object must outlive the waits on it; waiters hold no reference.
// Memory ordering: done() happens-before the wait() it releases; unlock() happens-before
//   the lock() it lets in; release() before the acquire() it admits; f in call() before
//   every call() returns; set() before the wait() it ends.
// Complexity: O(1) per operation, plus O(waiters woken).
// Example:
//   cogo::WaitGroup wg;
//   for (auto& job : jobs) { wg.add(1); cogo::go(run(job, wg)); }  // run calls wg.done()
//   co_await wg.wait();
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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

class WaitGroup {
 public:
  WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // Adds delta (may be negative) to the counter; throws usage_error, changing nothing,
  // if it would go negative. Reaching zero releases every waiter.
  void add(std::int64_t delta = 1);
  void done() { add(-1); }
  std::int64_t count() const noexcept { return state_.load(std::memory_order_acquire) >> 1; }

  using WaitCase = detail::ListCase<WaitGroup, detail::WaitReason::semacquire>;
  // Completes once the counter is zero.
  [[nodiscard]] detail::SingleAwaiter<WaitCase> wait(source_location where = source_location::current()) noexcept {
    return detail::SingleAwaiter<WaitCase>(WaitCase(this, where));
  }
  // wait() as a select case.
  [[nodiscard]] WaitCase wait_case(source_location where = source_location::current()) noexcept {
    return WaitCase(this, where);
  }

  detail::Lock& wait_lock() noexcept { return mu_; }
  detail::List& wait_list() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS { return waiters_; }
  // Under wait_lock(): true if the count is zero, else notes that a waiter is queuing.
  bool try_take_locked() noexcept;

 private:
  // The count shifted left by one, and in bit 0 whether a waiter may be queued. done()
  // that reaches zero with the bit clear touches nothing after its compare-exchange, so
  // a waiter that saw zero may destroy the WaitGroup at once (as Go's does).
  static constexpr std::int64_t kWaiterBit = 1;
  std::atomic<std::int64_t> state_{0};
  detail::Lock mu_;
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

class Mutex {
 public:
  Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  using LockCase = detail::ListCase<Mutex, detail::WaitReason::sync_mutex_lock>;
  [[nodiscard]] detail::SingleAwaiter<LockCase> lock(source_location where = source_location::current()) noexcept {
    return detail::SingleAwaiter<LockCase>(LockCase(this, where));
  }
  [[nodiscard]] LockCase lock_case(source_location where = source_location::current()) noexcept {
    return LockCase(this, where);
  }
  bool try_lock() noexcept;
  // Passes ownership to the longest waiter, if any. Throws usage_error if not locked.
  void unlock();

  class [[nodiscard]] Guard {
   public:
    explicit Guard(Mutex& m) noexcept : m_(&m) {}
    Guard(Guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (m_ != nullptr) m_->unlock();
    }

   private:
    Mutex* m_;
  };

  struct ScopedAwaiter : detail::SingleAwaiter<LockCase> {
    ScopedAwaiter(Mutex* m, source_location where) noexcept
        : detail::SingleAwaiter<LockCase>(LockCase(m, where)), m_(m) {}
    Guard await_resume() noexcept {
      detail::SingleAwaiter<LockCase>::await_resume();
      return Guard(*m_);
    }
    Mutex* m_;
  };
  // co_await m.scoped_lock(): locks, and returns a guard that unlocks.
  [[nodiscard]] ScopedAwaiter scoped_lock(source_location where = source_location::current()) noexcept {
    return ScopedAwaiter(this, where);
  }

  detail::Lock& wait_lock() noexcept { return mu_; }
  detail::List& wait_list() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS { return waiters_; }
  bool try_take_locked() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (locked_) return false;
    locked_ = true;
    return true;
  }

 private:
  detail::Lock mu_;
  bool locked_ COGO_GUARDED_BY(mu_) = false;
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

class Semaphore {
 public:
  explicit Semaphore(std::size_t permits) noexcept : count_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  using AcquireCase = detail::ListCase<Semaphore, detail::WaitReason::semacquire>;
  [[nodiscard]] detail::SingleAwaiter<AcquireCase> acquire(
      source_location where = source_location::current()) noexcept {
    return detail::SingleAwaiter<AcquireCase>(AcquireCase(this, where));
  }
  [[nodiscard]] AcquireCase acquire_case(source_location where = source_location::current()) noexcept {
    return AcquireCase(this, where);
  }
  bool try_acquire() noexcept;
  void release(std::size_t permits = 1) noexcept;
  std::size_t available() const noexcept;

  detail::Lock& wait_lock() noexcept { return mu_; }
  detail::List& wait_list() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS { return waiters_; }
  // Arrival order: no permit is taken past a waiter.
  bool try_take_locked() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (count_ == 0 || !waiters_.empty()) return false;
    --count_;
    return true;
  }

 private:
  mutable detail::Lock mu_;
  std::size_t count_ COGO_GUARDED_BY(mu_);
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

class Event {
 public:
  Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void set() noexcept;
  void reset() noexcept;
  bool is_set() const noexcept;

  using WaitCase = detail::ListCase<Event, detail::WaitReason::sync_event>;
  [[nodiscard]] detail::SingleAwaiter<WaitCase> wait(source_location where = source_location::current()) noexcept {
    return detail::SingleAwaiter<WaitCase>(WaitCase(this, where));
  }
  [[nodiscard]] WaitCase wait_case(source_location where = source_location::current()) noexcept {
    return WaitCase(this, where);
  }

  detail::Lock& wait_lock() noexcept { return mu_; }
  detail::List& wait_list() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS { return waiters_; }
  bool try_take_locked() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS { return set_; }

 private:
  mutable detail::Lock mu_;
  bool set_ COGO_GUARDED_BY(mu_) = false;
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

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
