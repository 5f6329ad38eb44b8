#include "cogo/sync.hpp"

namespace cogo {

void WaitGroup::add(std::int64_t delta) {
  if (delta > 0) {
    // Cannot go negative: no compare-exchange loop to lose under contention. Adding to
    // a zero count releases nobody.
    state_.fetch_add(delta * 2, std::memory_order_acq_rel);
    return;
  }
  std::int64_t s = state_.load(std::memory_order_relaxed);
  std::int64_t next = 0;
  do {
    const std::int64_t c = s >> 1;
    if (c + delta < 0) {
      throw usage_error("cogo: WaitGroup counter would go negative (" + std::to_string(c) + " + " +
                        std::to_string(delta) + "); more done() than add()");
    }
    next = c + delta == 0 ? 0 : s + delta * 2;  // reaching zero clears the waiter bit
  } while (!state_.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                         std::memory_order_relaxed));
  // Nothing of *this may be touched unless a waiter queued: a waiter that saw zero may
  // already have destroyed it.
  if (delta == 0 || next != 0 || (s & kWaiterBit) == 0) return;
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    while (detail::ListWaiter* w = detail::dequeue_claimable(waiters_)) woken.push_back(w);
  }
  detail::wake_all(woken);
}

bool WaitGroup::try_take_locked() noexcept {
  std::int64_t s = state_.load(std::memory_order_acquire);
  while (true) {
    if ((s >> 1) == 0) return true;
    if ((s & kWaiterBit) != 0) return false;
    if (state_.compare_exchange_weak(s, s | kWaiterBit, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return false;
    }
  }
}

bool Mutex::try_lock() noexcept {
  detail::LockGuard g(mu_);
  return try_take_locked();
}

void Mutex::unlock() {
  detail::ListWaiter* next = nullptr;
  {
    detail::LockGuard g(mu_);
    if (!locked_) throw usage_error("cogo: Mutex::unlock of an unlocked Mutex");
    next = detail::dequeue_claimable(waiters_);
    if (next == nullptr) locked_ = false;  // else ownership passes straight to `next`
  }
  if (next != nullptr) next->ws->wake();
}

bool Semaphore::try_acquire() noexcept {
  detail::LockGuard g(mu_);
  return try_take_locked();
}

void Semaphore::release(std::size_t permits) noexcept {
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    for (; permits > 0; --permits) {
      if (detail::ListWaiter* w = detail::dequeue_claimable(waiters_)) {
        woken.push_back(w);  // the permit goes straight to the waiter
      } else {
        count_ += permits;
        break;
      }
    }
  }
  detail::wake_all(woken);
}

std::size_t Semaphore::available() const noexcept {
  detail::LockGuard g(mu_);
  return count_;
}

void Event::set() noexcept {
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    set_ = true;
    while (detail::ListWaiter* w = detail::dequeue_claimable(waiters_)) woken.push_back(w);
  }
  detail::wake_all(woken);
}

void Event::reset() noexcept {
  detail::LockGuard g(mu_);
  set_ = false;
}

bool Event::is_set() const noexcept {
  detail::LockGuard g(mu_);
  return set_;
}

void Once::finish() noexcept {
  if (state_.exchange(kDone, std::memory_order_acq_rel) != kRunningWaited) return;
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    while (detail::ListWaiter* w = detail::dequeue_claimable(waiters_)) woken.push_back(w);
  }
  detail::wake_all(woken);
}

}  // namespace cogo
