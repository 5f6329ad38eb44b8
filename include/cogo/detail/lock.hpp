// A small mutual-exclusion lock: one word, a short spin, then a futex wait. Internal.
//
// Critical sections in cogo are a handful of pointer updates, so the uncontended path
// (one compare-exchange to lock, one exchange to unlock) matters more than fairness.
#pragma once

#include <atomic>
#include <cstdint>

#include "cogo/detail/config.hpp"

namespace cogo::detail {

class COGO_CAPABILITY("mutex") Lock {
 public:
  constexpr Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  void lock() noexcept COGO_ACQUIRE() {
    std::uint32_t expected = kUnlocked;
    if (COGO_LIKELY(state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                                   std::memory_order_relaxed))) {
      return;
    }
    lock_slow();
  }

  bool try_lock() noexcept COGO_TRY_ACQUIRE(true) {
    std::uint32_t expected = kUnlocked;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void unlock() noexcept COGO_RELEASE() {
    if (COGO_UNLIKELY(state_.exchange(kUnlocked, std::memory_order_release) == kContended)) {
      wake_one();
    }
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0;
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kContended = 2;

  void lock_slow() noexcept;
  void wake_one() noexcept;

  std::atomic<std::uint32_t> state_{kUnlocked};
};

// Scoped holder of a Lock.
class COGO_SCOPED_CAPABILITY LockGuard {
 public:
  explicit LockGuard(Lock& lock) noexcept COGO_ACQUIRE(lock) : lock_(lock) { lock_.lock(); }
  ~LockGuard() COGO_RELEASE() { lock_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& lock_;
};

}  // namespace cogo::detail
