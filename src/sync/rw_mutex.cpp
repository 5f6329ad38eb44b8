#include "cogo/sync/rw_mutex.hpp"

namespace cogo {

bool RWMutex::try_rlock() noexcept {
  detail::LockGuard g(mu_);
  return try_rlock_locked();
}

bool RWMutex::try_lock() noexcept {
  detail::LockGuard g(mu_);
  return try_lock_locked();
}

void RWMutex::runlock() {
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    if (active_readers_ == 0) throw usage_error("cogo: RWMutex::runlock without a read lock held");
    if (--active_readers_ == 0) admit_locked(woken, false);
  }
  detail::wake_all(woken);
}

void RWMutex::unlock() {
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    if (!writer_) throw usage_error("cogo: RWMutex::unlock without the write lock held");
    writer_ = false;
    admit_locked(woken, true);
  }
  detail::wake_all(woken);
}

void RWMutex::admit_locked(detail::List& woken, bool readers_first) noexcept {
  if (writer_) return;
  if (readers_first) admit_readers_locked(woken);
  if (active_readers_ == 0) {
    // The lock passes straight to the writer: nobody can slip in before it wakes.
    if (detail::ListWaiter* w = detail::dequeue_claimable(writers_)) {
      writer_ = true;
      woken.push_back(w);
      return;
    }
  }
  // No writer waits (the last one may just have left, a select that another case won):
  // the readers it held back may enter.
  if (writers_.empty()) admit_readers_locked(woken);
}

void RWMutex::admit_readers_locked(detail::List& woken) noexcept {
  while (detail::ListWaiter* r = detail::dequeue_claimable(readers_)) {
    ++active_readers_;
    woken.push_back(r);
  }
}

}  // namespace cogo
