// The state behind Chan<T>, and its receive and send cases. Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/ref.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/wait_list.hpp"

namespace cogo::detail {

// A party blocked on a channel (Go's sudog). Lives in the waiting frame.
struct ChanWaiter : ListWaiter {
  void* slot = nullptr;  // receive: std::optional<T>* to fill; send: the value to move
  bool ok = false;       // set by the counterpart: true once a value moved, false: closed
};

// The part of a channel that does not depend on T.
class ChanCore {
 public:
  void add_ref() noexcept { refs_.add(); }

  static ChanWaiter* dequeue(List& q) noexcept { return dequeue_claimable<ChanWaiter>(q); }

  std::size_t size() const noexcept {
    LockGuard g(mu_);
    return count_;
  }
  std::size_t capacity() const noexcept { return cap_; }
  bool closed() const noexcept {
    LockGuard g(mu_);
    return closed_;
  }

  mutable Lock mu_;
  RefCount refs_{1};
  const std::size_t cap_;
  std::size_t head_ COGO_GUARDED_BY(mu_) = 0;
  std::size_t count_ COGO_GUARDED_BY(mu_) = 0;
  bool closed_ COGO_GUARDED_BY(mu_) = false;
  List recvq_ COGO_GUARDED_BY(mu_);
  List sendq_ COGO_GUARDED_BY(mu_);

 protected:
  explicit ChanCore(std::size_t cap) noexcept : cap_(cap) {}
  ~ChanCore() = default;
};

template <class T>
class ChanState final : public ChanCore {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "Chan<T> moves values while holding its lock: T's move must not throw");

 public:
  static ChanState* make(std::size_t cap) {
    // Checked before allocating: a product that wrapped would size a small block that
    // the buffer then overruns.
    if (cap > (SIZE_MAX - kSlotsOffset) / sizeof(T)) {
      throw std::length_error("cogo::make_chan: capacity " + std::to_string(cap) +
                              " is too large for a buffer of " + std::to_string(sizeof(T)) +
                              "-byte values");
    }
    static_assert(sizeof(ChanState) == sizeof(ChanCore), "the buffer offset assumes no members here");
    void* mem = ::operator new(kSlotsOffset + cap * sizeof(T), std::align_val_t(kAlign));
    return ::new (mem) ChanState(cap);
  }

  void release() noexcept {
    if (refs_.drop()) {
      this->~ChanState();
      ::operator delete(this, std::align_val_t(kAlign));
    }
  }

  // Receive, under the lock: a value from the buffer (refilled from a blocked sender), or
  // straight from a blocked sender, or "closed". False if it would block. `wake` gets a
  // sender to wake once unlocked.
  bool try_recv_locked(std::optional<T>& out, ChanWaiter*& wake) noexcept {
    if (count_ > 0) {
      T* s = slot(head_);
      out.emplace(std::move(*s));
      s->~T();
      head_ = (head_ + 1) % cap_;
      --count_;
      if (ChanWaiter* w = dequeue(sendq_)) {
        take_from(w, slot((head_ + count_) % cap_));
        ++count_;
        wake = w;
      }
      return true;
    }
    if (ChanWaiter* w = dequeue(sendq_)) {
      take_into(w, out);
      w->ok = true;
      wake = w;
      return true;
    }
    if (closed_) {
      out.reset();
      return true;
    }
    return false;
  }

  // Send, under the lock: hand the value to a blocked receiver, or buffer it. `result`
  // is false on a closed channel (the value is left where it was). False if it would
  // block. `wake` gets a receiver to wake once unlocked.
  bool try_send_locked(T* src, bool& result, ChanWaiter*& wake) noexcept {
    if (closed_) {
      result = false;
      return true;
    }
    if (ChanWaiter* w = dequeue(recvq_)) {
      auto* dst = static_cast<std::optional<T>*>(w->slot);
      dst->emplace(std::move(*src));
      w->ok = true;
      wake = w;
      result = true;
      return true;
    }
    if (count_ < cap_) {
      ::new (static_cast<void*>(slot((head_ + count_) % cap_))) T(std::move(*src));
      ++count_;
      result = true;
      return true;
    }
    return false;
  }

  // Closes; collects every blocked party into `woken` (they see "closed"). False if it
  // was closed already.
  bool close_locked(List& woken) noexcept {
    if (closed_) return false;
    closed_ = true;
    while (ChanWaiter* w = dequeue(recvq_)) {
      static_cast<std::optional<T>*>(w->slot)->reset();
      w->ok = false;
      woken.push_back(w);
    }
    while (ChanWaiter* w = dequeue(sendq_)) {
      w->ok = false;
      woken.push_back(w);
    }
    return true;
  }

 private:
  explicit ChanState(std::size_t cap) noexcept : ChanCore(cap) {}
  ~ChanState() {
    for (std::size_t i = 0; i < count_; ++i) slot((head_ + i) % cap_)->~T();
  }

  // The buffer follows the state, at an offset that keeps an over-aligned T aligned.
  static constexpr std::size_t kAlign = alignof(T) > alignof(ChanCore) ? alignof(T) : alignof(ChanCore);
  static constexpr std::size_t kSlotsOffset = (sizeof(ChanCore) + alignof(T) - 1) / alignof(T) * alignof(T);

  T* slot(std::size_t i) noexcept {
    return std::launder(reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(this) + kSlotsOffset) + i);
  }
  static void take_into(ChanWaiter* w, std::optional<T>& out) noexcept {
    out.emplace(std::move(*static_cast<T*>(w->slot)));
  }
  static void take_from(ChanWaiter* w, T* dst) noexcept {
    ::new (static_cast<void*>(dst)) T(std::move(*static_cast<T*>(w->slot)));
    w->ok = true;
  }
};

// ch.recv() as a case.
template <class T>
class RecvCase {
 public:
  using result_type = std::optional<T>;

  RecvCase(ChanState<T>* ch, source_location site) noexcept : ch_(ch), site_(site) {}
  RecvCase(RecvCase&& o) noexcept : ch_(o.ch_), site_(o.site_) {}

  Lock* lock() noexcept { return ch_ != nullptr ? &ch_->mu_ : nullptr; }
  bool poll(WaitState&, int) noexcept {
    return ch_ != nullptr && ch_->try_recv_locked(result_, wake_);
  }
  void enqueue(WaitState& ws, int index) noexcept {
    if (ch_ == nullptr) return;  // a nil channel never fires
    waiter_.ws = &ws;
    waiter_.index = index;
    waiter_.slot = &result_;
    ch_->recvq_.push_back(&waiter_);
  }
  void dequeue() noexcept {
    if (waiter_.linked()) List::remove(&waiter_);
  }
  void settle() noexcept {}
  void after_unlock() noexcept {
    if (wake_ != nullptr) wake_->ws->wake();
  }
  result_type result() noexcept { return std::move(result_); }
  WaitReason reason() const noexcept {
    return ch_ != nullptr ? WaitReason::chan_receive : WaitReason::chan_receive_nil;
  }
  const source_location& site() const noexcept { return site_; }

  auto operator co_await() && noexcept;

 private:
  ChanState<T>* ch_;
  source_location site_;
  std::optional<T> result_;
  ChanWaiter waiter_;
  ChanWaiter* wake_ = nullptr;
};

// ch.send(v) as a case. An rvalue is referred to and moved only if the send happens, so
// a send that fails leaves it where it was; an lvalue is copied when the case is made
// (as Go evaluates a send's value on entering the statement), outside any lock, so a
// copy that throws leaves the channel untouched and the exception goes to the caller.
template <class T, bool Owned>
class SendCase {
 public:
  using result_type = bool;

  SendCase(ChanState<T>* ch, T* src, source_location site) noexcept
    requires(!Owned)
      : ch_(ch), value_(src), site_(site) {}
  SendCase(ChanState<T>* ch, const T& v, source_location site)
    requires Owned
      : ch_(ch), value_(v), site_(site) {}
  SendCase(SendCase&& o) noexcept : ch_(o.ch_), value_(std::move(o.value_)), site_(o.site_) {}

  Lock* lock() noexcept { return ch_ != nullptr ? &ch_->mu_ : nullptr; }
  bool poll(WaitState&, int) noexcept {
    return ch_ != nullptr && ch_->try_send_locked(src(), result_, wake_);
  }
  void enqueue(WaitState& ws, int index) noexcept {
    polled_ = false;
    if (ch_ == nullptr) return;
    waiter_.ws = &ws;
    waiter_.index = index;
    waiter_.slot = src();
    ch_->sendq_.push_back(&waiter_);
  }
  void dequeue() noexcept {
    if (waiter_.linked()) List::remove(&waiter_);
  }
  void settle() noexcept {}
  void after_unlock() noexcept {
    if (wake_ != nullptr) wake_->ws->wake();
  }
  // Polled: the outcome of the poll; woken: whether a receiver took the value.
  result_type result() noexcept { return polled_ ? result_ : waiter_.ok; }
  WaitReason reason() const noexcept {
    return ch_ != nullptr ? WaitReason::chan_send : WaitReason::chan_send_nil;
  }
  const source_location& site() const noexcept { return site_; }

  auto operator co_await() && noexcept;

 private:
  T* src() noexcept {
    if constexpr (Owned) {
      return &value_;
    } else {
      return value_;
    }
  }

  ChanState<T>* ch_;
  std::conditional_t<Owned, T, T*> value_;  // the copy, or the caller's rvalue
  source_location site_;
  bool result_ = false;
  bool polled_ = true;
  ChanWaiter waiter_;
  ChanWaiter* wake_ = nullptr;
};

}  // namespace cogo::detail
