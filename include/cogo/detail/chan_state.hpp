// The state behind Chan<T>: a lock-free ring for buffered channels (chan_ring.hpp), a
// lock-guarded rendezvous for unbuffered ones, and the locked lists of parked parties.
// Internal.
//
// Buffered: lock-free parties use the ring alone; the lock guards the lists, and a
// party that parks marks the slot it waits for (see chan_ring.hpp for why that loses
// no wake-up). Whoever meets a mark takes the lock and runs settle(), which hands
// values from the ring to parked receivers and from parked senders into the ring, in
// order, claiming each waiter before it moves its value.
//
// Unbuffered: Go's rendezvous. Under the lock a sender hands its value straight to a
// parked receiver or parks; a receiver takes straight from a parked sender or parks.
// waiting_ mirrors "a receiver is parked" and "a sender is parked" so that an operation
// that cannot complete goes to park without locking twice.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "cogo/detail/chan_ring.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/ref.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"

namespace cogo::detail {

// A party parked on a channel (Go's sudog). Lives in the waiting frame.
struct ChanWaiter : ListWaiter {
  void* slot = nullptr;  // receive: the std::optional<T> to fill; send: the T to move
  bool ok = false;       // set by the counterpart: true once a value moved, false: closed
};

template <class T>
class ChanState final : public Ring<T> {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "Chan<T> moves values inside its protocol: T's move must not throw");
  using R = Ring<T>;
  using typename R::Slot;
  using R::kClosed;
  using R::kRecvMark;
  using R::kSendMark;
  using R::pos;

 public:
  // Throws std::length_error for a capacity that cannot be represented (the buffer is
  // allocated whole, up front, as Go's is), std::bad_alloc if it cannot be allocated.
  static ChanState* make(std::size_t cap) {
    constexpr std::size_t kAlign = alignof(Slot) > alignof(ChanState) ? alignof(Slot) : alignof(ChanState);
    constexpr std::size_t kOffset = (sizeof(ChanState) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
    if (cap > R::kMaxCapacity || cap > (SIZE_MAX - kOffset) / sizeof(Slot)) {
      throw std::length_error("cogo::make_chan: capacity " + std::to_string(cap) +
                              " is too large (at most " + std::to_string(R::kMaxCapacity) +
                              " values, and the buffer must fit in memory)");
    }
    void* mem = ::operator new(kOffset + cap * sizeof(Slot), std::align_val_t(kAlign));
    auto* slots = reinterpret_cast<Slot*>(static_cast<unsigned char*>(mem) + kOffset);
    return ::new (mem) ChanState(cap, slots);
  }

  void add_ref() noexcept { refs_.add(); }
  void release() noexcept {
    if (refs_.drop()) {
      constexpr std::size_t kAlign = alignof(Slot) > alignof(ChanState) ? alignof(Slot) : alignof(ChanState);
      this->~ChanState();
      ::operator delete(static_cast<void*>(this), std::align_val_t(kAlign));
    }
  }

  std::size_t capacity() const noexcept { return this->cap_; }
  std::size_t size() const noexcept { return this->cap_ == 0 ? 0 : this->count(); }
  bool closed() const noexcept { return (this->tail_.load(std::memory_order_acquire) & kClosed) != 0; }
  Lock& lock() noexcept COGO_RETURN_CAPABILITY(mu_) { return mu_; }

  // ---------------------------------------------------------------- without the lock

  // A receive that needs no waiting. True: done (out empty: closed and drained). False:
  // it would wait, or (with !try_locked) the lock holder's help is needed first.
  [[gnu::always_inline]] bool recv_now(std::optional<T>& out, bool try_locked) noexcept
      COGO_EXCLUDES(mu_) {
    if (COGO_LIKELY(this->cap_ != 0)) {
      const RingOp r = this->try_pop(out);
      if (COGO_LIKELY(r == RingOp::done || r == RingOp::closed)) return true;
      if (r == RingOp::blocked || (r == RingOp::locked && !try_locked)) return false;
      if (r == RingOp::done_settle) {
        settle_unlocked();
        return true;
      }
      return recv_with_lock(out);
    }
    if ((waiting_.load(std::memory_order_acquire) & kSenderParked) == 0 && !closed()) {
      return false;  // no sender to meet
    }
    return recv_with_lock(out);
  }

  // A send that needs no waiting. True: done, with `sent` false if the channel is closed.
  [[gnu::always_inline]] bool send_now(T* src, bool& sent, bool try_locked) noexcept
      COGO_EXCLUDES(mu_) {
    if (COGO_LIKELY(this->cap_ != 0)) {
      const RingOp r = this->try_push(src);
      if (COGO_LIKELY(r == RingOp::done)) {
        sent = true;
        return true;
      }
      if (r == RingOp::blocked || (r == RingOp::locked && !try_locked)) return false;
      if (r == RingOp::closed) {
        sent = false;
        return true;
      }
      if (r == RingOp::done_settle) {
        sent = true;
        settle_unlocked();
        return true;
      }
      return send_with_lock(src, sent);
    }
    if ((waiting_.load(std::memory_order_acquire) & kReceiverParked) == 0 && !closed()) {
      return false;  // no receiver to meet
    }
    return send_with_lock(src, sent);
  }

  // ---------------------------------------------------------------- under the lock

  // Receive: true with a value or, empty, "closed and drained"; false if it must wait.
  // With `mark`, a false result leaves the head slot marked for a registration that
  // follows (enqueue) or is undone (leave_locked). Parties it frees go to `woken`.
  [[gnu::always_inline]] bool recv_locked(std::optional<T>& out, Wakes& woken, bool mark) noexcept
      COGO_REQUIRES(mu_) {
    if (this->cap_ != 0) return recv_ring_locked(out, woken, mark);
    if (ChanWaiter* w = dequeue_claimable<ChanWaiter>(sendq_)) {
      out.emplace(std::move(*static_cast<T*>(w->slot)));
      finish(w, true, woken);
      if (sendq_.empty()) clear_waiting(kSenderParked);
      return true;
    }
    return closed();
  }

  // Send: true if done (`sent` false: closed); false if it must wait. As recv_locked.
  [[gnu::always_inline]] bool send_locked(T* src, bool& sent, Wakes& woken, bool mark) noexcept
      COGO_REQUIRES(mu_) {
    if (this->cap_ != 0) return send_ring_locked(src, sent, woken, mark);
    if (closed()) {
      sent = false;
      return true;
    }
    if (ChanWaiter* w = dequeue_claimable<ChanWaiter>(recvq_)) {
      static_cast<std::optional<T>*>(w->slot)->emplace(std::move(*src));
      finish(w, true, woken);
      if (recvq_.empty()) clear_waiting(kReceiverParked);
      sent = true;
      return true;
    }
    return false;
  }

  // The ring's halves of recv_locked and send_locked, out of line.
  [[gnu::noinline]] bool recv_ring_locked(std::optional<T>& out, Wakes& woken, bool mark) noexcept
      COGO_REQUIRES(mu_) {
    for (;;) {
      std::uint64_t h = this->head_.load(std::memory_order_acquire);
      Slot& s = this->at(h);
      const std::uint64_t st = s.stamp.load(std::memory_order_acquire);
      if (pos(st) == h + 1) {
        if ((st & kRecvMark) != 0) {
          settle(woken);  // parked receivers come first; it serves one or unmarks
          continue;
        }
        if (!this->head_.compare_exchange_weak(h, this->next(h), std::memory_order_relaxed)) continue;
        out.emplace(std::move(*s.value()));
        s.value()->~T();
        const std::uint64_t old = s.stamp.fetch_add(this->lap_ - 1, std::memory_order_release);
        if ((old & kSendMark) != 0) settle(woken);
        return true;
      }
      if (pos(st) == h) {
        const std::uint64_t t = this->tail_.load(std::memory_order_acquire);
        if ((t & ~kClosed) == h) {
          if ((t & kClosed) != 0) return true;
          if ((st & kSendMark) != 0) {  // a parked sender's value is owed to this slot
            settle(woken);
            continue;
          }
          if (!mark || (st & kRecvMark) != 0) return false;
          std::uint64_t expected = st;
          if (s.stamp.compare_exchange_strong(expected, st | kRecvMark, std::memory_order_acq_rel)) {
            return false;
          }
          continue;  // a sender published meanwhile
        }
      }
      if (pos(st) <= h) spin_pause();  // a send in flight, or a receiver still leaving
    }
  }

  [[gnu::noinline]] bool send_ring_locked(T* src, bool& sent, Wakes& woken, bool mark) noexcept
      COGO_REQUIRES(mu_) {
    for (;;) {
      std::uint64_t t = this->tail_.load(std::memory_order_acquire);
      if ((t & kClosed) != 0) {
        sent = false;
        return true;
      }
      Slot& s = this->at(t);
      const std::uint64_t st = s.stamp.load(std::memory_order_acquire);
      if (pos(st) == t) {
        if ((st & kSendMark) != 0) {
          settle(woken);  // parked senders come first
          continue;
        }
        if (!this->tail_.compare_exchange_weak(t, this->next(t), std::memory_order_relaxed)) continue;
        ::new (static_cast<void*>(s.storage)) T(std::move(*src));
        const std::uint64_t old = s.stamp.fetch_add(1, std::memory_order_release);
        if ((old & kRecvMark) != 0) settle(woken);
        sent = true;
        return true;
      }
      if (pos(st) + this->lap_ == t + 1 &&
          this->head_.load(std::memory_order_acquire) + this->lap_ == t) {  // full
        if ((st & kRecvMark) != 0) {  // the value is owed to a parked receiver
          settle(woken);
          continue;
        }
        if (!mark || (st & kSendMark) != 0) return false;
        std::uint64_t expected = st;
        if (s.stamp.compare_exchange_strong(expected, st | kSendMark, std::memory_order_acq_rel)) {
          return false;
        }
        continue;  // a receiver emptied it meanwhile
      }
      if (pos(st) + this->lap_ == t + 1) spin_pause();  // a receiver is leaving the slot
    }
  }

  void park_receiver(ChanWaiter* w) noexcept COGO_REQUIRES(mu_) {
    recvq_.push_back(w);
    set_waiting(kReceiverParked);
  }
  void park_sender(ChanWaiter* w) noexcept COGO_REQUIRES(mu_) {
    sendq_.push_back(w);
    set_waiting(kSenderParked);
  }

  // After a waiter left its list, or a poll that marked was not followed by parking:
  // drops the marks no parked party needs any more.
  void leave_locked() noexcept COGO_REQUIRES(mu_) {
    if (this->cap_ == 0) {
      note_waiting();
      return;
    }
    if (recvq_.empty()) R::clear_mark(this->at(this->head_.load(std::memory_order_acquire)), kRecvMark);
    if (sendq_.empty()) {
      R::clear_mark(this->at(this->tail_.load(std::memory_order_acquire) & ~kClosed), kSendMark);
    }
  }

  // Closes; every parked party goes to `woken` (senders with false; receivers with a
  // value still in the ring, else "closed"). False if it was closed already.
  bool close_locked(Wakes& woken) noexcept COGO_REQUIRES(mu_) {
    const std::uint64_t last = this->tail_.fetch_or(kClosed, std::memory_order_acq_rel);
    if ((last & kClosed) != 0) return false;
    while (ChanWaiter* w = dequeue_claimable<ChanWaiter>(sendq_)) finish(w, false, woken);
    if (this->cap_ != 0) {
      R::clear_mark(this->at(last), kSendMark);
      // Values sent before the close still go to parked receivers, in order; a send in
      // flight (its position claimed, its value not yet written) is waited out.
      while (!recvq_.empty() && this->head_.load(std::memory_order_acquire) != last) {
        Slot& s = this->at(this->head_.load(std::memory_order_acquire));
        if (pos(s.stamp.load(std::memory_order_acquire)) == this->head_.load(std::memory_order_relaxed)) {
          spin_pause();
          continue;
        }
        if (!give_to_receiver(woken)) break;
      }
    }
    while (ChanWaiter* w = dequeue_claimable<ChanWaiter>(recvq_)) {
      static_cast<std::optional<T>*>(w->slot)->reset();
      finish(w, false, woken);
    }
    leave_locked();
    return true;
  }

 private:
  static constexpr std::uint32_t kReceiverParked = 1;
  static constexpr std::uint32_t kSenderParked = 2;

  ChanState(std::size_t cap, Slot* slots) noexcept : R(cap, slots) {}
  ~ChanState() = default;

  static void finish(ChanWaiter* w, bool ok, Wakes& woken) noexcept {
    w->ok = ok;
    woken.push(w);
  }
  // waiting_ changes only under the lock, so a load and a store do.
  void set_waiting(std::uint32_t bit) noexcept COGO_REQUIRES(mu_) {
    const std::uint32_t v = waiting_.load(std::memory_order_relaxed);
    if (this->cap_ == 0 && (v & bit) == 0) waiting_.store(v | bit, std::memory_order_release);
  }
  void clear_waiting(std::uint32_t bit) noexcept COGO_REQUIRES(mu_) {
    waiting_.store(waiting_.load(std::memory_order_relaxed) & ~bit, std::memory_order_release);
  }
  void note_waiting() noexcept COGO_REQUIRES(mu_) {
    if (this->cap_ == 0) {
      waiting_.store((recvq_.empty() ? 0 : kReceiverParked) | (sendq_.empty() ? 0 : kSenderParked),
                     std::memory_order_release);
    }
  }

  // The slow halves of recv_now and send_now, out of line so that the lock-free paths
  // stay small.
  [[gnu::noinline]] bool recv_with_lock(std::optional<T>& out) noexcept COGO_EXCLUDES(mu_) {
    Wakes woken;
    bool done;
    {
      LockGuard g(mu_);
      done = recv_locked(out, woken, false);
    }
    woken.wake_all();
    return done;
  }
  [[gnu::noinline]] bool send_with_lock(T* src, bool& sent) noexcept COGO_EXCLUDES(mu_) {
    Wakes woken;
    bool done;
    {
      LockGuard g(mu_);
      done = send_locked(src, sent, woken, false);
    }
    woken.wake_all();
    return done;
  }

  [[gnu::noinline]] void settle_unlocked() noexcept COGO_EXCLUDES(mu_) {
    Wakes woken;
    {
      LockGuard g(mu_);
      settle(woken);
    }
    woken.wake_all();
  }

  // Moves values between the ring and parked parties until neither side can move.
  void settle(Wakes& woken) noexcept COGO_REQUIRES(mu_) {
    for (;;) {
      const bool gave = give_to_receiver(woken);
      const bool took = take_from_sender(woken);
      if (!gave && !took) return;
    }
  }

  // The head slot, full and marked, to the first parked receiver that can be claimed; if
  // none can, the mark goes and the value is left to anyone. False if nothing moved.
  bool give_to_receiver(Wakes& woken) noexcept COGO_REQUIRES(mu_) {
    const std::uint64_t h = this->head_.load(std::memory_order_acquire);
    Slot& s = this->at(h);
    const std::uint64_t st = s.stamp.load(std::memory_order_acquire);
    if ((st & kRecvMark) == 0 || pos(st) != h + 1) return false;
    // The slot is reserved: nobody else can take the value while the waiter is claimed.
    ChanWaiter* w = dequeue_claimable<ChanWaiter>(recvq_);
    if (w == nullptr) {
      s.stamp.store(st & ~kRecvMark, std::memory_order_release);
      return false;
    }
    static_cast<std::optional<T>*>(w->slot)->emplace(std::move(*s.value()));
    s.value()->~T();
    std::uint64_t freed = (h + this->lap_) | (st & kSendMark);
    // More receivers parked: reserve the next slot before the head reaches it.
    if (!recvq_.empty()) {
      if (this->same_slot_next()) {
        freed |= kRecvMark;
      } else {
        R::add_mark(this->at(this->next(h)), kRecvMark);
      }
    }
    this->head_.store(this->next(h), std::memory_order_release);
    s.stamp.store(freed, std::memory_order_release);
    finish(w, true, woken);
    return true;
  }

  // The tail slot, free and marked, filled from the first parked sender that can be
  // claimed. False if nothing moved.
  bool take_from_sender(Wakes& woken) noexcept COGO_REQUIRES(mu_) {
    const std::uint64_t t = this->tail_.load(std::memory_order_acquire);
    if ((t & kClosed) != 0) return false;  // close answers parked senders
    Slot& s = this->at(t);
    const std::uint64_t st = s.stamp.load(std::memory_order_acquire);
    if ((st & kSendMark) == 0 || pos(st) != t) return false;
    ChanWaiter* w = dequeue_claimable<ChanWaiter>(sendq_);
    if (w == nullptr) {
      s.stamp.store(st & ~kSendMark, std::memory_order_release);
      return false;
    }
    ::new (static_cast<void*>(s.storage)) T(std::move(*static_cast<T*>(w->slot)));
    std::uint64_t full = (t + 1) | (st & kRecvMark);
    if (!sendq_.empty()) {
      if (this->same_slot_next()) {
        full |= kSendMark;
      } else {
        R::add_mark(this->at(this->next(t)), kSendMark);
      }
    }
    this->tail_.store(this->next(t), std::memory_order_release);
    s.stamp.store(full, std::memory_order_release);
    finish(w, true, woken);
    return true;
  }

  mutable Lock mu_;
  RefCount refs_{1};
  std::atomic<std::uint32_t> waiting_{0};  // unbuffered: kReceiverParked | kSenderParked
  List recvq_ COGO_GUARDED_BY(mu_);
  List sendq_ COGO_GUARDED_BY(mu_);
};

}  // namespace cogo::detail
