// WeightedSemaphore
//
// A semaphore of `size` units from which each caller takes a weight of its own
// (golang.org/x/sync/semaphore's Weighted): co_await acquire(ctx, n) takes n units, or
// returns ctx.err() if the context ends first, and then holds nothing; try_acquire(n)
// never waits; release(n) gives units back. acquire_case(n) is acquire as a select case.
//
// Waiters are served in arrival order, and one at the head that does not fit blocks
// those behind it even if they would fit: a large request is never starved by a stream
// of small ones (x/sync's rule). try_acquire() fails while anyone waits.
//
// Differences from x/sync: a request larger than the whole size can never succeed, so
// acquire() returns an Error with code std::errc::invalid_argument at once instead of
// waiting for the context to end (x/sync blocks until then); acquire_case() with such
// a weight, a negative weight, or a negative size throw usage_error. Releasing more than
// is held throws usage_error and changes nothing (x/sync panics). As in x/sync, an
// acquire whose context is already done may still succeed if the units are free.
//
// Thread safety: every member is safe from any thread and any task at once.
// Cancellation: acquire(ctx, n) ends when ctx does; acquire_case() is not
//   cancellation-aware by itself (select it with ctx.done()).
// Lifetime: the semaphore must outlive the waits on it.
// Memory ordering: release() happens-before the acquire() it lets in.
// Complexity: O(1) per operation, plus O(waiters let in).
// Example:
//   cogo::WeightedSemaphore mem(64 << 20);               // bytes of buffer space
//   if (auto err = co_await mem.acquire(ctx, len)) co_return err;
//   ...; mem.release(len);
#pragma once

#include <cstdint>

#include "cogo/context.hpp"
#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"
#include "cogo/task.hpp"

namespace cogo {

class WeightedSemaphore {
  struct Waiter : detail::ListWaiter {
    std::int64_t n = 0;
  };

 public:
  // Throws usage_error if size < 0.
  explicit WeightedSemaphore(std::int64_t size);
  WeightedSemaphore(const WeightedSemaphore&) = delete;
  WeightedSemaphore& operator=(const WeightedSemaphore&) = delete;

  class AcquireCase {
   public:
    using result_type = bool;  // always true once it wins

    AcquireCase(WeightedSemaphore* s, std::int64_t n, source_location site) noexcept
        : s_(s), n_(n), site_(site) {}
    AcquireCase(AcquireCase&& o) noexcept : s_(o.s_), n_(o.n_), site_(o.site_) {}

    detail::Lock* lock() noexcept { return &s_->mu_; }
    bool poll(detail::WaitState&, int) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
      return s_->try_take_locked(n_);
    }
    void enqueue(detail::WaitState& ws, int index) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
      waiter_.ws = &ws;
      waiter_.index = index;
      waiter_.n = n_;
      s_->waiters_.push_back(&waiter_);
    }
    // A select that another case won leaves; leaving the head may let those behind in.
    void dequeue() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
      if (!waiter_.linked()) return;
      const bool head = s_->waiters_.front() == &waiter_;
      detail::List::remove(&waiter_);
      if (head) s_->notify_locked(woken_);
    }
    void settle() noexcept { detail::wake_all(woken_); }
    void after_unlock() noexcept {}
    result_type result() noexcept { return true; }
    detail::WaitReason reason() const noexcept { return detail::WaitReason::semacquire; }
    const source_location& site() const noexcept { return site_; }

   private:
    WeightedSemaphore* s_;
    std::int64_t n_;
    source_location site_;
    Waiter waiter_;
    detail::List woken_;
  };

  // Takes n units, waiting in line for them, or gives up when ctx ends: returns
  // ctx.err() then, holding nothing. Throws usage_error for n < 0.
  [[nodiscard]] Task<Error> acquire(const Context& ctx, std::int64_t n = 1,
                                    source_location where = source_location::current());
  // Taking n units as a select case. Throws usage_error for n < 0 or n > size().
  [[nodiscard]] AcquireCase acquire_case(std::int64_t n = 1,
                                         source_location where = source_location::current());
  // Takes n units if they are free and nobody waits. Throws usage_error for n < 0.
  bool try_acquire(std::int64_t n = 1);
  // Gives n units back, letting waiters in from the head. Throws usage_error, changing
  // nothing, for n < 0 or more than is held.
  void release(std::int64_t n = 1);

  std::int64_t size() const noexcept { return size_; }
  // Units held now.
  std::int64_t held() const noexcept;

 private:
  static Task<Error> acquire_body(WeightedSemaphore* s, Context ctx, std::int64_t n,
                                  source_location where);
  bool try_take_locked(std::int64_t n) noexcept COGO_REQUIRES(mu_) {
    if (size_ - cur_ < n || !waiters_.empty()) return false;
    cur_ += n;
    return true;
  }
  // Lets waiters in from the head while they fit, claimed, into `woken`.
  void notify_locked(detail::List& woken) noexcept COGO_REQUIRES(mu_);

  const std::int64_t size_;
  mutable detail::Lock mu_;
  std::int64_t cur_ COGO_GUARDED_BY(mu_) = 0;
  detail::List waiters_ COGO_GUARDED_BY(mu_);  // Waiters, in arrival order
};

}  // namespace cogo
