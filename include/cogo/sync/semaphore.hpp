// Semaphore
//
// A counting semaphore of permits for tasks: co_await acquire(), try_acquire(), release(k).
// acquire() is also a select case. Waiters are served in arrival order.
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: the Semaphore must outlive the waits on it.
// Memory ordering: release() happens-before the acquire() it admits.
// Complexity: O(1) per operation, plus O(waiters woken).
// Example:
//   cogo::Semaphore slots(4);
//   co_await slots.acquire(); ...; slots.release();
#pragma once

#include <cstddef>

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"

namespace cogo {

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

}  // namespace cogo
