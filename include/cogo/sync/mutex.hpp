// Mutex
//
// A lock for tasks that suspends the task, never the worker thread: co_await lock(),
// unlock(), and co_await scoped_lock() for a guard that unlocks when destroyed. lock() is
// also a select case (lock_case()). Under contention ownership passes to waiters in
// arrival order. unlock() of an unlocked Mutex throws usage_error.
//
// Thread safety: every member is safe from any thread and any task at once; a Mutex may
//   be unlocked by another task than the one that locked it, as in Go.
// Lifetime: the Mutex must outlive the waits on it.
// Memory ordering: unlock() happens-before the lock() it lets in.
// Complexity: O(1) per operation.
// Example:
//   auto guard = co_await mu.scoped_lock();
#pragma once

#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"

namespace cogo {

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
  friend class Cond;  // checks that a Mutex is locked before waiting with it

  detail::Lock mu_;
  bool locked_ COGO_GUARDED_BY(mu_) = false;
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

}  // namespace cogo
