// ch.recv() and ch.send(v) as awaitables and select cases. Internal.
//
// A case builds nothing it needs only to wait: its waiter is constructed in enqueue(),
// so an operation that completes at once (try_fast(), lock-free on a buffered channel)
// costs the attempt and no more.
#pragma once

#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "cogo/detail/chan_state.hpp"
#include "cogo/detail/select_core.hpp"

namespace cogo::detail {

// What the two cases share: the channel, the waiter and whether it was queued.
template <class T>
class ChanCaseBase {
  // A case keeps a T (the value received, or the copy of an lvalue sent) in the awaiting
  // coroutine's frame, and g++ 12 aligns frames only to the default new alignment.
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                "cogo::Chan<T>: recv() and send() keep a T in the coroutine frame, which is "
                "aligned only to __STDCPP_DEFAULT_NEW_ALIGNMENT__; send an over-aligned T "
                "through a std::unique_ptr<T> instead");

 public:
  Lock* lock() noexcept { return ch_ != nullptr ? &ch_->lock() : nullptr; }
  // A poll that marked a slot and was not followed by enqueue() drops the mark.
  void unpoll() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (ch_ != nullptr) ch_->leave_locked();
  }
  void dequeue() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (!enqueued_) return;
    if (waiter_.linked()) List::remove(&waiter_);
    ch_->leave_locked();
  }
  void settle() noexcept {}
  void after_unlock() noexcept {}
  const source_location& site() const noexcept { return site_; }

 protected:
  ChanCaseBase(ChanState<T>* ch, source_location site) noexcept : ch_(ch), site_(site) {}
  ChanWaiter& make_waiter(WaitState& ws, int index, void* slot) noexcept {
    ::new (static_cast<void*>(&waiter_)) ChanWaiter();
    waiter_.ws = &ws;
    waiter_.index = index;
    waiter_.slot = slot;
    enqueued_ = true;
    return waiter_;
  }

  ChanState<T>* ch_;
  source_location site_;
  bool enqueued_ = false;
  union {
    ChanWaiter waiter_;  // built by enqueue() only
  };
};

template <class T>
class RecvCase : public ChanCaseBase<T> {
  static_assert(std::is_trivially_destructible_v<ChanWaiter>);

 public:
  using result_type = std::optional<T>;

  RecvCase(ChanState<T>* ch, source_location site) noexcept : ChanCaseBase<T>(ch, site) {}
  RecvCase(RecvCase&& o) noexcept : ChanCaseBase<T>(o.ch_, o.site_) {}

  bool try_fast() noexcept { return this->ch_ != nullptr && this->ch_->recv_now(result_, false); }
  bool poll(WaitState&, int, Wakes& woken) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    return this->ch_ != nullptr && this->ch_->recv_locked(result_, woken, true);
  }
  void enqueue(WaitState& ws, int index) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (this->ch_ == nullptr) return;  // a nil channel never fires
    this->ch_->park_receiver(&this->make_waiter(ws, index, &result_));
  }
  result_type result() noexcept { return std::move(result_); }
  WaitReason reason() const noexcept {
    return this->ch_ != nullptr ? WaitReason::chan_receive : WaitReason::chan_receive_nil;
  }

  auto operator co_await() && noexcept { return SingleAwaiter<RecvCase>(std::move(*this)); }

 private:
  std::optional<T> result_;
};

// ch.send(v) as a case. An rvalue is referred to and moved only if the send happens, so
// a send that fails leaves it where it was; an lvalue is copied when the case is made
// (as Go evaluates a send's value on entering the statement), outside any lock, so a
// copy that throws leaves the channel untouched and the exception goes to the caller.
template <class T, bool Owned>
class SendCase : public ChanCaseBase<T> {
 public:
  using result_type = bool;

  SendCase(ChanState<T>* ch, T* src, source_location site) noexcept
    requires(!Owned)
      : ChanCaseBase<T>(ch, site), value_(src) {}
  SendCase(ChanState<T>* ch, const T& v, source_location site)
    requires Owned
      : ChanCaseBase<T>(ch, site), value_(v) {}
  SendCase(SendCase&& o) noexcept : ChanCaseBase<T>(o.ch_, o.site_), value_(std::move(o.value_)) {}

  bool try_fast() noexcept { return this->ch_ != nullptr && this->ch_->send_now(src(), sent_, false); }
  bool poll(WaitState&, int, Wakes& woken) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    return this->ch_ != nullptr && this->ch_->send_locked(src(), sent_, woken, true);
  }
  void enqueue(WaitState& ws, int index) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (this->ch_ == nullptr) return;
    this->ch_->park_sender(&this->make_waiter(ws, index, src()));
  }
  // Completed at once: the attempt's outcome; woken: whether a receiver took the value.
  result_type result() noexcept { return this->enqueued_ ? this->waiter_.ok : sent_; }
  WaitReason reason() const noexcept {
    return this->ch_ != nullptr ? WaitReason::chan_send : WaitReason::chan_send_nil;
  }

  auto operator co_await() && noexcept;

 private:
  T* src() noexcept {
    if constexpr (Owned) {
      return &value_;
    } else {
      return value_;
    }
  }

  std::conditional_t<Owned, T, T*> value_;  // the copy, or the caller's rvalue
  bool sent_ = false;
};

// co_await ch.send(v): a send whose result is ignored hides a value that was never
// delivered, so the awaited result is [[nodiscard]] (clang honours that on await_resume;
// g++ 12 does not). Write (void)co_await ch.send(v) where a closed channel is fine.
template <class Case>
class SendAwaiter : public SingleAwaiter<Case> {
 public:
  using SingleAwaiter<Case>::SingleAwaiter;
  [[nodiscard]] bool await_resume() noexcept { return SingleAwaiter<Case>::await_resume(); }
};

template <class T, bool Owned>
auto SendCase<T, Owned>::operator co_await() && noexcept {
  return SendAwaiter<SendCase>(std::move(*this));
}

}  // namespace cogo::detail
