// WaitGroup
//
// Waits for a collection of tasks to finish (Go's sync.WaitGroup): add(n) before starting
// work, done() when a piece ends, co_await wait() for the count to reach zero. wait() is
// also a select case (wait_case()). A counter that would go negative is refused with
// cogo::usage_error and left unchanged (Go panics).
//
// Thread safety: every member is safe from any thread and any task at once.
// Lifetime: the WaitGroup must outlive the waits on it. A task or thread whose wait()
//   (or wait_case(), or count()) saw the count at zero may destroy it at once, as in Go,
//   provided no other wait on it is still in progress: the done() that brought the count
//   to zero never touches the WaitGroup once a wait can see zero.
// Memory ordering: done() happens-before the wait() it releases.
// Complexity: add() and done() are one compare-exchange; a done() that reaches zero with
//   a waiter queued also takes the lock, plus O(waiters woken).
// Example:
//   cogo::WaitGroup wg;
//   for (auto& job : jobs) { wg.add(1); cogo::go(run(job, wg)); }  // run calls wg.done()
//   co_await wg.wait();
//
// The protocol that makes early destruction safe. The state word holds the count and a
// "waiter may be queued" bit. Every wait observes zero only under the WaitGroup's lock
// (waits poll under it; count() takes it when it reads zero). A poll that finds the count
// above zero sets the bit in the same compare-exchange that observed the count, so a
// done() racing between a waiter's poll and its registration sees the bit. A done()
// that brings the count to zero:
//   - with the bit clear, compare-exchanges the word to zero and touches nothing after:
//     no waiter is queued, and a later wait sees zero and returns;
//   - with the bit set, takes the lock *before* its compare-exchange to zero, collects the
//     queued waiters, unlocks, then wakes them. No wait can see zero before the unlock,
//     and after it done() only wakes the collected waiters, whose frames are not the
//     WaitGroup (the unlock may still issue a futex wake on the lock word: a system call
//     on an address, harmless once the memory is gone).
// The bit may be set by a poll that did not queue (a select with default_case, or one that
// another case wins): that costs the next zeroing done() one lock, never safety. The last
// queued waiter to leave unserved (a select that another case won) clears it again.
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
  // if it would go negative, or past its 2^62 - 1 (Go panics on both). Reaching zero
  // releases every waiter.
  void add(std::int64_t delta = 1);
  void done() { add(-1); }
  // The counter now. Reading zero takes the lock (see the protocol above), so a caller
  // that saw zero here may destroy the WaitGroup like one whose wait() returned.
  std::int64_t count() const noexcept;

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
  // Under wait_lock(): true if the count is zero, else notes that a waiter may queue.
  bool try_take_locked() noexcept;
  // Under wait_lock(): a waiter left unserved; the last one out clears the bit.
  void waiter_left_locked(detail::List& woken) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS;

 private:
  // Brings the count to zero or below with a waiter maybe queued: under the lock.
  void add_locked_path(std::int64_t delta);

  // The count shifted left by one, and in bit 0 whether a waiter may be queued.
  static constexpr std::int64_t kWaiterBit = 1;
  std::atomic<std::int64_t> state_{0};
  mutable detail::Lock mu_;
  detail::List waiters_ COGO_GUARDED_BY(mu_);
};

}  // namespace cogo
