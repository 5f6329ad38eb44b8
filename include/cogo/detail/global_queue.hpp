// A scheduler's global run queue: FIFO, under its owner's lock. Internal.
//
// A ring of pointers takes items and gives them back in batches without touching the
// items themselves (walking a list of items would miss the cache once per item). A full
// ring doubles; if that allocation fails, further items wait in an intrusive list
// through RunItem::next_item, which cannot fail: a push never loses an item. The list is
// always younger than the ring: pushes go to it while it is not empty, pops drain the
// ring first.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

#include "cogo/detail/run_item.hpp"

namespace cogo::detail {

class GlobalQueue {
 public:
  static constexpr std::size_t kFirstRing = 1024;

  GlobalQueue() : ring_(new RunItem*[kFirstRing]), cap_(kFirstRing) {}
  GlobalQueue(const GlobalQueue&) = delete;
  GlobalQueue& operator=(const GlobalQueue&) = delete;

  std::size_t size() const noexcept { return count_ + overflow_count_; }

  void push(RunItem* const* items, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      RunItem* it = items[i];
      if (overflow_head_ == nullptr && (count_ < cap_ || grow())) {
        ring_[(head_ + count_) & (cap_ - 1)] = it;
        ++count_;
        continue;
      }
      it->next_item = nullptr;
      if (overflow_tail_ != nullptr) {
        overflow_tail_->next_item = it;
      } else {
        overflow_head_ = it;
      }
      overflow_tail_ = it;
      ++overflow_count_;
    }
  }

  // Takes up to `max` items, oldest first, into `out`; returns how many.
  std::size_t pop(RunItem** out, std::size_t max) noexcept {
    std::size_t n = 0;
    while (n < max && count_ > 0) {
      out[n++] = ring_[head_];
      head_ = (head_ + 1) & (cap_ - 1);
      --count_;
    }
    while (n < max && overflow_head_ != nullptr) {
      out[n++] = overflow_head_;
      overflow_head_ = overflow_head_->next_item;
      --overflow_count_;
    }
    if (overflow_head_ == nullptr) overflow_tail_ = nullptr;
    return n;
  }

 private:
  // Doubles the ring, unrolling it so that it starts at 0; false if there is no memory.
  bool grow() noexcept {
    auto* bigger = new (std::nothrow) RunItem*[cap_ * 2];
    if (bigger == nullptr) return false;
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & (cap_ - 1)];
    ring_.reset(bigger);
    head_ = 0;
    cap_ *= 2;
    return true;
  }

  static_assert((kFirstRing & (kFirstRing - 1)) == 0, "a power of two: positions wrap with a mask");
  std::unique_ptr<RunItem*[]> ring_;
  std::size_t cap_;  // a power of two
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  RunItem* overflow_head_ = nullptr;
  RunItem* overflow_tail_ = nullptr;
  std::size_t overflow_count_ = 0;
};

}  // namespace cogo::detail
