// Chan<T>
//
// A typed conduit between tasks and threads, buffered or not, that can be closed.
// make_chan<T>(capacity) makes one; capacity 0 is unbuffered (a rendezvous). A default-
// constructed Chan is Go's nil channel: operations on it never complete.
//
//   co_await ch.send(v)  -> true once a receiver (or the buffer) has the value; false if
//                           the channel is closed, or closes while the sender waits. A
//                           send that fails leaves v untouched (an rvalue such as
//                           std::move(v) is moved only when the send happens; an lvalue
//                           is copied when ch.send(v) is called).
//   co_await ch.recv()   -> the next value; empty once the channel is closed and drained.
//   try_send / try_recv  -> the same without waiting; try_recv's result (an optional)
//                           also tells "nothing yet" from "closed and drained".
//   close()              -> false if already closed. Buffered values stay receivable;
//                           parked receivers get them first, then "closed".
// Values from one sender arrive in the order sent; parked receivers (and senders) are
// served in the order they parked. The result of try_send and of co_await ch.send(v) is
// [[nodiscard]]: write (void) where a closed channel does not matter.
// `for v := range ch` is `while (auto v = co_await ch.recv())`. ch.send(v) and ch.recv()
// are also select cases (select.hpp). From a thread, use cogo::sync_wait(ch.recv()).
//
// Thread safety: every member is safe from any thread and any task at once.
// Cancellation: not cancellation-aware; select on ctx.done() to give up.
// Memory ordering: a send happens-before the receive that takes its value; close()
//   happens-before a receive that reports "closed".
// Lifetime: a handle shares the channel; the last handle frees it (and any buffered
//   values). A handle must outlive the operations started through it.
// Complexity: O(1) per operation; select is O(cases). A buffered channel's send and
//   receive that need not wait are lock-free: one compare-exchange on a position and one
//   fetch_add on the slot (detail/chan_ring.hpp); they lock only to hand a value to or
//   from a parked party. An unbuffered channel is a rendezvous under a lock.
// Memory: make_chan<T>(n) allocates the buffer whole, up front, as Go does: n slots of
//   an 8-byte stamp and a T, padded to alignof(T). A capacity over 2^40, or one whose
//   buffer size overflows, throws std::length_error naming it; one that cannot be
//   allocated throws std::bad_alloc.
// Requires: T's move constructor does not throw (values move inside the protocol).
//   send(const T&) and try_send(const T&) copy the value first, outside any lock: a copy
//   that throws propagates from the call and leaves the channel as it was.
// Example:
//   auto ch = cogo::make_chan<int>(16);
//   while (auto v = co_await ch.recv()) use(*v);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "cogo/detail/chan_cases.hpp"
#include "cogo/detail/chan_state.hpp"
#include "cogo/detail/config.hpp"

namespace cogo {

// What try_recv() found.
enum class RecvStatus : std::uint8_t {
  received,   // a value, which the result holds
  not_ready,  // nothing yet: no value buffered and no sender waiting (a nil channel, always)
  closed,     // closed and drained: no value will ever come
};

// try_recv()'s result: a std::optional<T> (so it reads and converts as one) that also
// says why it is empty.
template <class T>
class TryRecvResult : public std::optional<T> {
 public:
  TryRecvResult() noexcept = default;
  explicit TryRecvResult(std::optional<T>&& v, bool closed) noexcept
      : std::optional<T>(std::move(v)),
        status_(this->has_value() ? RecvStatus::received
                                  : (closed ? RecvStatus::closed : RecvStatus::not_ready)) {}
  RecvStatus status() const noexcept { return status_; }
  bool closed() const noexcept { return status_ == RecvStatus::closed; }

 private:
  RecvStatus status_ = RecvStatus::not_ready;
};

template <class T>
class Chan {
 public:
  using value_type = T;

  // The nil channel.
  Chan() noexcept = default;
  Chan(const Chan& o) noexcept : s_(o.s_) {
    if (s_ != nullptr) s_->add_ref();
  }
  Chan(Chan&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Chan& operator=(Chan o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Chan() {
    if (s_ != nullptr) s_->release();
  }

  // An awaitable and a select case; the value must outlive the operation (it does in
  // `co_await ch.send(v)` and in a select).
  // An lvalue is copied here, before any lock: a copy that throws propagates from
  // send() and the channel is left as it was.
  [[nodiscard]] detail::SendCase<T, true> send(const T& v,
                                               source_location where = source_location::current()) const
    requires std::is_copy_constructible_v<T>
  {
    return detail::SendCase<T, true>(s_, v, where);
  }
  [[nodiscard]] detail::SendCase<T, false> send(T&& v,
                                                source_location where = source_location::current()) const noexcept {
    return detail::SendCase<T, false>(s_, std::addressof(v), where);
  }
  [[nodiscard]] detail::RecvCase<T> recv(source_location where = source_location::current()) const noexcept {
    return detail::RecvCase<T>(s_, where);
  }

  // Sends without waiting: true if a receiver or the buffer took the value. False if it
  // would have to wait or the channel is closed; the value is then left as it was.
  // Ignoring the result would hide a value that was never sent: it is [[nodiscard]].
  // An lvalue is copied first, outside the lock; a copy that throws propagates.
  [[nodiscard]] bool try_send(const T& v) const
    requires std::is_copy_constructible_v<T>
  {
    T copy(v);
    return try_send_ptr(std::addressof(copy));
  }
  [[nodiscard]] bool try_send(T&& v) const noexcept { return try_send_ptr(std::addressof(v)); }

  // Receives without waiting: a value if one is ready, else empty, and status() says
  // which of received, not_ready and closed (closed and drained) it is.
  [[nodiscard]] TryRecvResult<T> try_recv() const noexcept {
    std::optional<T> out;
    if (s_ == nullptr) return TryRecvResult<T>();
    const bool closed = s_->recv_now(out, true) && !out.has_value();
    return TryRecvResult<T>(std::move(out), closed);
  }

  // Closes the channel: parked receivers get what is still buffered, then "closed";
  // parked senders get false. Returns false if it was closed already (Go panics) or is
  // nil.
  bool close() const noexcept {
    if (s_ == nullptr) return false;
    detail::Wakes woken;
    bool closed;
    {
      detail::LockGuard g(s_->lock());
      closed = s_->close_locked(woken);
    }
    woken.wake_all();
    return closed;
  }

  std::size_t size() const noexcept { return s_ != nullptr ? s_->size() : 0; }
  std::size_t capacity() const noexcept { return s_ != nullptr ? s_->capacity() : 0; }
  bool closed() const noexcept { return s_ != nullptr && s_->closed(); }
  bool is_nil() const noexcept { return s_ == nullptr; }

  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.s_ == b.s_; }

  template <class U>
  friend Chan<U> make_chan(std::size_t capacity);

 private:
  explicit Chan(detail::ChanState<T>* s) noexcept : s_(s) {}

  bool try_send_ptr(T* v) const noexcept {
    bool sent = false;
    return s_ != nullptr && s_->send_now(v, sent, true) && sent;
  }

  detail::ChanState<T>* s_ = nullptr;
};

// A channel with room for `capacity` values; 0 makes it unbuffered.
template <class T>
Chan<T> make_chan(std::size_t capacity = 0) {
  return Chan<T>(detail::ChanState<T>::make(capacity));
}

}  // namespace cogo
