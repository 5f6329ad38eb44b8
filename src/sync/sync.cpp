#include "cogo/sync.hpp"

#include <cstdint>
#include <string>

namespace cogo {

namespace {
[[noreturn]] void throw_negative(std::int64_t count, std::int64_t delta) {
  throw usage_error("cogo: WaitGroup counter would go negative (" + std::to_string(count) +
                    " + " + std::to_string(delta) + "); more done() than add()");
}
}  // namespace

void WaitGroup::add(std::int64_t delta) {
  if (delta > 0) {
    // Cannot go negative: no compare-exchange loop to lose under contention. Adding to
    // a zero count releases nobody. Sequentially consistent: ErrGroup::set_limit reads
    // the count against it (errgroup.hpp).
    constexpr std::int64_t kMax = INT64_MAX >> 1;  // the count has 62 bits
    if (delta <= kMax) {
      const std::int64_t before = state_.fetch_add(delta * 2, std::memory_order_seq_cst);
      if ((before >> 1) <= kMax - delta) return;
      state_.fetch_sub(delta * 2, std::memory_order_seq_cst);  // refused: undone
    }
    throw usage_error("cogo: WaitGroup counter would overflow (+" + std::to_string(delta) + ")");
  }
  if (delta == 0) return;
  std::int64_t s = state_.load(std::memory_order_relaxed);
  while (true) {
    const std::int64_t c = s >> 1;
    if (c + delta < 0) throw_negative(c, delta);
    if (c + delta == 0 && (s & kWaiterBit) != 0) {
      // A waiter may be queued: reach zero under the lock (see the header).
      add_locked_path(delta);
      return;
    }
    // Reaching zero with the bit clear: nobody is queued, and nothing of *this may be
    // touched after this exchange, for a waiter that sees zero may destroy it.
    const std::int64_t next = c + delta == 0 ? 0 : s + delta * 2;
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
}

void WaitGroup::add_locked_path(std::int64_t delta) {
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    // Lock-free add()s may still change the count; polls may not.
    std::int64_t s = state_.load(std::memory_order_relaxed);
    std::int64_t next = 0;
    do {
      const std::int64_t c = s >> 1;
      if (c + delta < 0) throw_negative(c, delta);
      next = c + delta == 0 ? 0 : s + delta * 2;  // reaching zero clears the bit
    } while (!state_.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                           std::memory_order_relaxed));
    if (next == 0) {
      while (detail::ListWaiter* w = detail::dequeue_claimable(waiters_)) woken.push_back(w);
    }
  }
  // Only the collected waiters' frames from here on: a wait may already have seen zero.
  detail::wake_all(woken);
}

std::int64_t WaitGroup::count() const noexcept {
  const std::int64_t c = state_.load(std::memory_order_seq_cst) >> 1;
  if (c == 0) {
    // A done() that reached zero under the lock may still hold it: wait until it has
    // let go, so that the caller may destroy the WaitGroup.
    detail::LockGuard g(mu_);
  }
  return c;
}

bool WaitGroup::try_take_locked() noexcept {
  std::int64_t s = state_.load(std::memory_order_acquire);
  while (true) {
    if ((s >> 1) == 0) return true;
    if ((s & kWaiterBit) != 0) return false;
    // The bit goes in with the same exchange that saw the count above zero: a done()
    // that read the word before it fails its own exchange and sees the bit.
    if (state_.compare_exchange_weak(s, s | kWaiterBit, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return false;
    }
  }
}

void WaitGroup::waiter_left_locked(detail::List&) noexcept {
  // Every poll that goes on to queue sets the bit again under this lock first.
  if (waiters_.empty()) state_.fetch_and(~kWaiterBit, std::memory_order_acq_rel);
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

bool Once::is_done() const noexcept {
  const int s = state_.load(std::memory_order_acquire);
  if (s == kDone) return true;
  if (s != kDoneLocked) return false;
  // Published under the lock: finish() may still hold it. Once it has let go it touches
  // nothing of *this, so the caller may destroy the Once.
  detail::LockGuard g(mu_);
  return true;
}

bool Once::poll(bool& run) noexcept {
  if (is_done()) return true;
  detail::LockGuard g(mu_);
  const int s = state_.load(std::memory_order_acquire);
  if (s == kIdle) {
    state_.store(kRunning, std::memory_order_relaxed);
    run = true;
    return true;
  }
  // Finished since is_done() looked: under the lock, so finish() is done with *this.
  return s == kDone || s == kDoneLocked;
}

bool Once::wait(Waiter& w, bool& run, const source_location& site) noexcept {
  // Once unlocked, the frame holding `w` may be resumed at once: nothing of it is
  // touched after the unlock (the lock is the Once's, which outlives the wait).
  mu_.lock();
  int s = state_.load(std::memory_order_acquire);
  if (s == kIdle) {  // a claimant was dropped since await_ready
    state_.store(kRunning, std::memory_order_relaxed);
    run = true;
    mu_.unlock();
    return false;
  }
  // Flag that a waiter queues, so that finish() comes for it, unless the run ended
  // meanwhile (finish() of an unwaited run does not take the lock); s is kDone then.
  if (s == kRunning) {
    state_.compare_exchange_strong(s, kRunningWaited, std::memory_order_acq_rel,
                                   std::memory_order_acquire);
  }
  if (s == kDone || s == kDoneLocked) {
    mu_.unlock();
    return false;
  }
  detail::note_wait(detail::WaitReason::sync_once, site);
  waiters_.push_back(&w);
  mu_.unlock();
  return true;
}

void Once::finish() noexcept {
  int s = kRunning;
  if (state_.compare_exchange_strong(s, kDone, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
    return;  // nobody queued: touch nothing more, a caller may already destroy *this
  }
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    state_.store(kDoneLocked, std::memory_order_release);
    while (detail::ListWaiter* w = detail::dequeue_claimable(waiters_)) woken.push_back(w);
  }
  detail::wake_all(woken);
}

void Once::abandon() noexcept {
  detail::ListWaiter* next = nullptr;
  {
    detail::LockGuard g(mu_);
    next = detail::dequeue_claimable(waiters_);
    if (next != nullptr) {
      static_cast<Waiter*>(next)->run = true;  // the run passes straight to it
    } else {
      state_.store(kIdle, std::memory_order_release);
    }
  }
  if (next != nullptr) next->ws->wake();
}

}  // namespace cogo
