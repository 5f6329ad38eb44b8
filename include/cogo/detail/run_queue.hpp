// A worker's local run queue: a bounded ring that its owner pushes and pops, and that
// other workers steal half of at a time (the design of Go's runq). Internal.
#pragma once

#include <atomic>
#include <cstdint>

#include "cogo/detail/run_item.hpp"

namespace cogo::detail {

class RunQueue {
 public:
  static constexpr std::uint32_t kCapacity = 256;

  // Owner only. False when full.
  bool push(RunItem* v) noexcept {
    const std::uint32_t h = head_.load(std::memory_order_acquire);
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= kCapacity) return false;
    slots_[t % kCapacity].store(v, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // Owner only. Null when empty.
  RunItem* pop() noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (h == t) return nullptr;
      RunItem* v = slots_[h % kCapacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return v;
      }
    }
  }

  // Any thread: takes about half of the items, oldest first, into `out` (room for
  // kCapacity / 2). Returns how many. The owner uses it too, to move half of a full
  // queue to the global queue.
  std::uint32_t grab(RunItem** out) noexcept {
    for (;;) {
      // Sequentially consistent: an idle worker's recheck must see a push whose
      // notify_work() saw it spinning (idle.hpp, I1).
      std::uint32_t h = head_.load(std::memory_order_seq_cst);
      const std::uint32_t t = tail_.load(std::memory_order_seq_cst);
      std::uint32_t n = t - h;
      n -= n / 2;
      if (n == 0) return 0;
      if (n > kCapacity / 2) continue;  // read head and tail at different times
      for (std::uint32_t i = 0; i < n; ++i) {
        out[i] = slots_[(h + i) % kCapacity].load(std::memory_order_relaxed);
      }
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
        return n;
      }
    }
  }

  std::uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::atomic<RunItem*> slots_[kCapacity] = {};
};

}  // namespace cogo::detail
