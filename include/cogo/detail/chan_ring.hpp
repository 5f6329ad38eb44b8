// The lock-free bounded ring behind a buffered Chan<T>. Internal.
//
// A ring of `cap` slots with per-slot sequence stamps, in the manner of Vyukov's bounded
// MPMC queue: a sender claims a slot with one compare-exchange on `tail_`, a receiver with
// one on `head_`, and the stamp of the slot says whose turn it is. Blocked parties wait in
// the channel's locked lists (chan_state.hpp); this file is the part without a lock.
//
// Positions. A position packs a lap number over a slot index: the index is in the low
// bits (below lap_ = the power of two above cap), so the slot of a position is a mask and
// the next position is +1, or the next lap's index 0: no division per operation. For
// the slot at position p of some lap, its stamp reads
//   p        free: a sender may fill it           (FREE(p))
//   p + 1    full: a receiver may take it         (FULL(p))
// and a receiver that empties it writes p + lap_, FREE for the next lap. Because lap_ >
// cap, FULL(p) and FREE(p + lap_) differ, and a slot's stamps only grow.
//
// Marks. Two high bits of a stamp say that parked parties are owed the slot:
//   kRecvMark  receivers are parked and the slot at the head is theirs once filled;
//   kSendMark  senders are parked and the slot at the tail is theirs once emptied.
// A lock-free sender fills a FREE slot even if it carries kRecvMark, a lock-free receiver
// empties a FULL slot even if it carries kSendMark, and each publishes with fetch_add, an
// RMW that keeps the marks and returns them: seeing one, it takes the channel's lock and
// hands values over (ChanState::settle). But a FULL slot with kRecvMark and a FREE slot
// with kSendMark are reserved: lock-free parties leave them alone, so only the lock
// holder moves them, and it can claim a parked waiter and then move the value, knowing
// nobody can take the value in between. That is what keeps a select lossless: no
// waiter is claimed unless its value is certain, and no value is taken unless a claimed
// waiter gets it.
//
// The ordering argument (no lost wake-up). A receiver that finds the ring empty marks
// the head slot with a compare-exchange from the FREE stamp it saw, under the channel's
// lock, before it registers; the sender that fills that slot publishes with fetch_add
// on the same stamp. The two RMWs on one word are totally ordered: either the mark comes
// first, and the sender's fetch_add returns it (so the sender takes the lock, which the
// receiver holds until it is queued, and hands it the value), or the publish comes first,
// the receiver's compare-exchange fails, it re-reads the slot and takes the value itself.
// Senders facing a full ring mark the tail slot the same way against the receiver that
// empties it. No fence or flag is needed, and a lock-free operation touches no word
// beyond its position and its slot. tests/models/chan_ring.pml checks this protocol.
//
// A slot between a position claim and its publication (a sender that has advanced
// tail_ but not yet written the stamp) is waited out with a short spin: that window is
// a move constructor long, and Go's semantics need it (a receive that finds a send in
// flight must not report "nothing there" once that send has been ordered before a close).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace cogo::detail {

// Pauses briefly, yielding the thread now and then (src/time/timer.cpp).
void spin_pause() noexcept;

template <class T>
struct RingSlot {
  std::atomic<std::uint64_t> stamp;
  alignas(T) unsigned char storage[sizeof(T)];

  T* value() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
};

// What a lock-free attempt found.
enum class RingOp : std::uint8_t {
  done,         // completed
  done_settle,  // completed on a marked slot: parked parties need the lock holder now
  closed,       // send: the channel is closed; receive: closed and drained
  blocked,      // receive: empty; send: full
  locked,       // the slot is reserved for parked parties: go through the lock
};

template <class T>
class Ring {
 public:
  using Slot = RingSlot<T>;
  static constexpr std::uint64_t kRecvMark = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kSendMark = std::uint64_t{1} << 62;
  static constexpr std::uint64_t kMarks = kRecvMark | kSendMark;
  static constexpr std::uint64_t kClosed = std::uint64_t{1} << 63;  // in tail_
  // Positions grow by at most 2 per operation (lap_ < 2 * (cap + 1)), so 2^61 operations
  // fit below the marks; capacities beyond kMaxCapacity are refused.
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 40;

  static constexpr std::uint64_t pos(std::uint64_t stamp) noexcept { return stamp & ~kMarks; }

  std::uint64_t next(std::uint64_t p) const noexcept {
    return (p & mask_) == last_ ? (p | mask_) + 1 : p + 1;  // the next lap's index 0
  }
  Slot& at(std::uint64_t p) noexcept { return slots_[p & mask_]; }
  bool same_slot_next() const noexcept { return cap_ == 1; }  // next(p) is p's own slot

  // Values in the ring (racy, like Go's len).
  std::size_t count() const noexcept {
    const std::uint64_t h = head_.load(std::memory_order_acquire);
    const std::uint64_t t = tail_.load(std::memory_order_acquire) & ~kClosed;
    const std::uint64_t n = index_count(t) - index_count(h);
    return n > cap_ ? cap_ : static_cast<std::size_t>(n);
  }

  // Receives into `out` without a lock. locked: a marked slot, see the file comment.
  template <class Out>
  [[gnu::always_inline]] RingOp try_pop(Out& out) noexcept {
    std::uint64_t h = head_.load(std::memory_order_acquire);  // see try_push
    for (unsigned spins = 0;;) {
      Slot& s = at(h);
      const std::uint64_t st = s.stamp.load(std::memory_order_acquire);
      if ((st & ~kSendMark) == h + 1) {
        if (head_.compare_exchange_weak(h, next(h), std::memory_order_acquire)) {
          out.emplace(std::move(*s.value()));
          s.value()->~T();
          const std::uint64_t old = s.stamp.fetch_add(lap_ - 1, std::memory_order_release);
          return (old & kSendMark) != 0 ? RingOp::done_settle : RingOp::done;
        }
        continue;  // h was reloaded
      }
      if (pos(st) == h + 1) return RingOp::locked;  // owed to parked receivers
      if (pos(st) == h) {
        const std::uint64_t t = tail_.load(std::memory_order_acquire);
        if ((t & ~kClosed) == h) {
          if ((t & kClosed) != 0) return RingOp::closed;
          return (st & kSendMark) != 0 ? RingOp::locked : RingOp::blocked;
        }
      }
      // A stale h (another receiver took it) is reloaded at once; a send in flight into
      // this slot, or the last lap's receiver still leaving it, is waited out.
      if (pos(st) <= h) backoff(spins);
      h = head_.load(std::memory_order_acquire);
    }
  }

  // Sends *src (moving it only on success) without a lock.
  [[gnu::always_inline]] RingOp try_push(T* src) noexcept {
    // Positions are read with acquire: a lock holder that hands a slot to a waiter marks
    // the next slot, then publishes the position with release; acquire makes the mark
    // visible to whoever reads that position (free on x86).
    std::uint64_t t = tail_.load(std::memory_order_acquire);
    for (unsigned spins = 0;;) {
      if ((t & kClosed) != 0) return RingOp::closed;
      Slot& s = at(t);
      const std::uint64_t st = s.stamp.load(std::memory_order_acquire);
      if ((st & ~kRecvMark) == t) {
        if (tail_.compare_exchange_weak(t, next(t), std::memory_order_acquire)) {
          ::new (static_cast<void*>(s.storage)) T(std::move(*src));
          const std::uint64_t old = s.stamp.fetch_add(1, std::memory_order_release);
          return (old & kRecvMark) != 0 ? RingOp::done_settle : RingOp::done;
        }
        continue;
      }
      if (pos(st) == t) return RingOp::locked;  // owed to parked senders
      if (pos(st) + lap_ == t + 1) {
        if (head_.load(std::memory_order_acquire) + lap_ == t) {
          return (st & kRecvMark) != 0 ? RingOp::locked : RingOp::blocked;  // full
        }
        backoff(spins);  // a receiver is leaving the slot
      } else if (pos(st) < t) {
        backoff(spins);  // the last lap's send into this slot is still in flight
      }
      t = tail_.load(std::memory_order_acquire);  // or another sender took t
    }
  }

  // Waits for a party in the middle of its operation on a slot: a few pauses, then
  // yields (that party may have been preempted).
  static void backoff(unsigned& spins) noexcept {
    if (++spins < 32) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      spin_pause();
    }
  }

  // Adds `mark` to the stamp of `s`, whatever state it is in.
  static void add_mark(Slot& s, std::uint64_t mark) noexcept {
    std::uint64_t st = s.stamp.load(std::memory_order_relaxed);
    while (!s.stamp.compare_exchange_weak(st, st | mark, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) {
    }
  }
  static void clear_mark(Slot& s, std::uint64_t mark) noexcept {
    std::uint64_t st = s.stamp.load(std::memory_order_relaxed);
    while ((st & mark) != 0 &&
           !s.stamp.compare_exchange_weak(st, st & ~mark, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) {
    }
  }

 protected:
  Ring(std::size_t cap, Slot* slots) noexcept
      : cap_(cap), lap_(lap_for(cap)), mask_(lap_ - 1), last_(cap - 1), slots_(slots) {
    for (std::size_t i = 0; i < cap; ++i) {
      ::new (static_cast<void*>(slots_ + i)) Slot;
      slots_[i].stamp.store(i, std::memory_order_relaxed);  // FREE for lap 0
    }
  }
  ~Ring() {
    // No operation is running: every claimed position is published.
    const std::uint64_t t = tail_.load(std::memory_order_relaxed) & ~kClosed;
    for (std::uint64_t p = head_.load(std::memory_order_relaxed); p != t; p = next(p)) {
      at(p).value()->~T();
    }
  }

  static std::uint64_t lap_for(std::size_t cap) noexcept {
    std::uint64_t lap = 1;
    while (lap <= cap) lap <<= 1;
    return lap;
  }
  std::uint64_t index_count(std::uint64_t p) const noexcept {
    return (p >> __builtin_ctzll(lap_)) * cap_ + (p & mask_);  // laps * cap + index
  }

  const std::size_t cap_;
  const std::uint64_t lap_;
  const std::uint64_t mask_;  // lap_ - 1: a position's index bits
  const std::uint64_t last_;  // cap_ - 1: the last index
  Slot* const slots_;
  // Receivers and senders each write their own line.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // and kClosed
};

}  // namespace cogo::detail
