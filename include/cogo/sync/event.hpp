// Event
//
// A flag tasks wait on: set() wakes every waiter, reset() clears it; co_await wait() (also
// a select case) completes at once while it is set.
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: the Event must outlive the waits on it.
// Memory ordering: set() happens-before the wait() it ends.
// Complexity: O(1) per operation, plus O(waiters woken).
// Example:
//   cogo::Event ready;  ...  co_await ready.wait();
#pragma once

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"

namespace cogo {

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

}  // namespace cogo
