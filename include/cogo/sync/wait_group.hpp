// WaitGroup
//
// Waits for a collection of tasks to finish (Go's sync.WaitGroup): add(n) before starting
// work, done() when a piece ends, co_await wait() for the count to reach zero. wait() is
// also a select case (wait_case()). A counter that would go negative is refused with
// cogo::usage_error and left unchanged (Go panics).
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: the WaitGroup must outlive the waits on it. A waiter that saw the count reach
//   zero may destroy it at once: done() touches nothing after the count reaches zero
//   unless a waiter is queued.
// Memory ordering: done() happens-before the wait() it releases.
// Complexity: O(1) per operation, plus O(waiters woken).
// Example:
//   cogo::WaitGroup wg;
//   for (auto& job : jobs) { wg.add(1); cogo::go(run(job, wg)); }  // run calls wg.done()
//   co_await wg.wait();
#pragma once

#include <atomic>
#include <cstdint>

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

}  // namespace cogo
