// The machinery every wait shares: single operations (co_await ch.recv()) and select.
// Internal.
//
// A case is an object with:
//   using result_type = ...;
//   Lock* lock() noexcept;                 the lock that guards its readiness, or null
//   bool poll(WaitState&, int) noexcept;   under the lock: complete now if it can
//   void enqueue(WaitState&, int) noexcept;  under the lock: register to be woken
//   void dequeue() noexcept;               under the lock: unregister if still registered
//   void settle() noexcept;                no lock: wait out a notification in flight
//   void after_unlock() noexcept;          no lock: wake counterparts a completion freed
//   result_type result() noexcept;         the outcome, once this case won
//   WaitReason reason() const noexcept; const source_location& site() const noexcept;
// and optionally (channels have all three):
//   bool try_fast() noexcept;              no lock held: complete now if that is cheap
//                                          (no effect when it returns false)
//   bool poll(WaitState&, int, Wakes& woken) noexcept;  as poll, and counterparts it
//                                          claimed go to `woken`, woken after unlocking
//   void unpoll() noexcept;                under the lock: undo what a poll that returned
//                                          false left for the enqueue() that did not come
//
// An awaiter first tries each case alone, with try_fast() (or its lock and poll()), in
// a random order, and builds no wait state when one succeeds: that is the whole cost of
// an operation that need not wait. Otherwise it locks every case's lock in address
// order, polls again, and either completes or registers on all and suspends; the first
// party to claim the WaitState decides the case and transfers its value under that
// case's lock (or on a slot only that lock's holder may touch: chan_ring.hpp), so no
// value is ever taken for a case that does not win. On wake-up the losers unregister
// before the select returns.
//
// A select with a default case must see its cases at one moment (Go's nonblocking
// select). Locks freeze the cases that complete under them; a buffered channel's ring
// does not stop for a lock, but a poll that fails leaves its slot marked, after which
// the case can become ready and can no longer stop being ready while the lock is held.
// So the locked pass polls every case twice: a case that failed both polls failed at the
// moment the second round began, and so did every other.
//
// Awaiters hold no lock between their calls: an adaptor may call await_ready() without
// suspending, call it twice, or drop the awaiter after it. poll() must therefore have no
// effect when it returns false (beyond what is harmless to repeat, or what unpoll()
// undoes).
#pragma once

#include <array>
#include <coroutine>
#include <cstdint>
#include <concepts>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "cogo/detail/lock.hpp"
#include "cogo/detail/promise.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/wait_list.hpp"

namespace cogo::detail {

// A case that can complete without a lock its awaiter holds while registering (its
// lock() is null) and that may do so on another thread: a timer. Such cases declare
// `static constexpr bool kWakesUnlocked = true`.
template <class Case>
inline constexpr bool wakes_unlocked = requires { requires Case::kWakesUnlocked; };

// A fast per-thread generator for select's poll order.
std::uint32_t select_random() noexcept;

// The parties a completion claimed, to wake once every lock is released. A chain through
// the waiters' own links (a claimed waiter is off every list), on the waker's stack.
class Wakes {
 public:
  Wakes() noexcept = default;
  Wakes(const Wakes&) = delete;
  Wakes& operator=(const Wakes&) = delete;
  ~Wakes() { wake_all(); }

  void push(ListWaiter* w) noexcept {
    w->next = head_;
    head_ = w;
  }
  void wake_all() noexcept {
    while (head_ != nullptr) {
      ListWaiter* w = head_;
      head_ = static_cast<ListWaiter*>(w->next);
      w->next = nullptr;  // unlinked again; the waiter's frame may go once it is woken
      w->ws->wake();
    }
  }

 private:
  ListWaiter* head_ = nullptr;
};

template <class C>
concept HasTryFast = requires(C& c) {
  { c.try_fast() } -> std::same_as<bool>;
};
template <class C>
concept HasUnpoll = requires(C& c) { c.unpoll(); };

// Polls `c` through whichever poll it has.
template <class C>
bool poll_case(C& c, WaitState& ws, int index, Wakes& woken) noexcept {
  if constexpr (requires { c.poll(ws, index, woken); }) {
    return c.poll(ws, index, woken);
  } else {
    return c.poll(ws, index);
  }
}

// Locks the distinct non-null locks of `locks` in address order. Returns how many
// distinct locks were taken (they are left sorted at the front). An insertion sort: a
// select has a handful of cases.
template <std::size_t N>
std::size_t lock_all(std::array<Lock*, N>& locks) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
  const auto key = [](Lock* l) { return reinterpret_cast<std::uintptr_t>(l); };
  for (std::size_t i = 1; i < N; ++i) {
    Lock* x = locks[i];
    std::size_t j = i;
    for (; j > 0 && key(locks[j - 1]) > key(x); --j) locks[j] = locks[j - 1];
    locks[j] = x;
  }
  std::size_t k = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (locks[i] != nullptr && (k == 0 || locks[k - 1] != locks[i])) locks[k++] = locks[i];
  }
  for (std::size_t i = 0; i < k; ++i) locks[i]->lock();
  return k;
}

template <std::size_t N>
void unlock_all(const std::array<Lock*, N>& locks, std::size_t k) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
  // A copy: once the first lock is released the select may be woken, resumed elsewhere
  // and its frame (which holds `locks`) freed.
  std::array<Lock*, N> copy = locks;
  for (std::size_t i = 0; i < k; ++i) copy[i]->unlock();
}

// A WaitState built only when a wait has to register: an operation that completes at
// once never pays for it.
class LazyWaitState {
 public:
  LazyWaitState() noexcept {}
  LazyWaitState(const LazyWaitState&) = delete;
  LazyWaitState& operator=(const LazyWaitState&) = delete;
  ~LazyWaitState() {
    if (built_) ws_.~WaitState();
  }
  WaitState& get(bool single) noexcept {
    if (!built_) {
      ::new (static_cast<void*>(&ws_)) WaitState();
      ws_.single = single;
      built_ = true;
    }
    return ws_;
  }
  WaitState& operator*() noexcept { return ws_; }  // once built

 private:
  union {
    WaitState ws_;
  };
  bool built_ = false;
};

// co_await of one case.
template <class Case>
class SingleAwaiter {
 public:
  explicit SingleAwaiter(Case&& c) noexcept : case_(std::move(c)) {}
  // Moving is for handing an awaiter over before it is awaited (sync_wait, block_on).
  SingleAwaiter(SingleAwaiter&& o) noexcept : case_(std::move(o.case_)) {}
  SingleAwaiter(const SingleAwaiter&) = delete;
  SingleAwaiter& operator=(const SingleAwaiter&) = delete;

  // Tries the case at once and holds no lock afterwards: an adaptor may call
  // await_ready() alone, or twice, or drop the awaiter after it. (The lock may be null,
  // which the thread-safety analysis cannot follow.)
  bool await_ready() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if constexpr (HasTryFast<Case>) {
      return case_.try_fast();
    } else {
      WaitState& ws = ws_.get(true);
      Lock* l = case_.lock();
      if (l != nullptr) l->lock();
      const bool ready = case_.poll(ws, 0);
      if (l != nullptr) l->unlock();
      if (ready) case_.after_unlock();
      return ready;
    }
  }

  // Polls again under the lock (the case may have become ready since await_ready), then
  // registers and releases the lock, or resumes at once.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    WaitState& ws = ws_.get(true);
    Wakes woken;  // on this stack: the frame may be gone once unlocked
    Lock* l = case_.lock();
    if (l != nullptr) l->lock();
    if (poll_case(case_, ws, 0, woken)) {
      if (l != nullptr) l->unlock();
      case_.after_unlock();
      woken.wake_all();
      return false;
    }
    ws.begin(h);
    begun_ = true;
    note_wait(case_.reason(), case_.site());
    if constexpr (wakes_unlocked<Case>) {
      ws.deferred_wake = true;
      case_.enqueue(ws, 0);
      if (l != nullptr) l->unlock();
      woken.wake_all();
      return ws.park();  // the last touch of the frame
    } else {
      case_.enqueue(ws, 0);
      if (l != nullptr) l->unlock();  // null: a nil channel or a never-done context
      woken.wake_all();
      return true;
    }
  }

  typename Case::result_type await_resume() noexcept {
    if (begun_) note_running((*ws_).task);
    return case_.result();
  }

 private:
  Case case_;
  LazyWaitState ws_;
  bool begun_ = false;
};

// The site of a select is that of its first case that knows one (each case's factory
// records where it was called, normally on the select's own line).
template <class... Cases>
source_location first_site(const Cases&... cases) noexcept {
  source_location site;
  bool found = false;
  ((!found && cases.site().line() != 0 ? (site = cases.site(), found = true) : false), ...);
  return site;
}

// The case that makes a select non-blocking.
struct DefaultCase {
  using result_type = std::monostate;
  Lock* lock() noexcept { return nullptr; }
  bool poll(WaitState&, int) noexcept { return false; }
  void enqueue(WaitState&, int) noexcept {}
  void dequeue() noexcept {}
  void settle() noexcept {}
  void after_unlock() noexcept {}
  result_type result() noexcept { return {}; }
  WaitReason reason() const noexcept { return WaitReason::select; }
  const source_location& site() const noexcept { return site_; }
  source_location site_;
};

}  // namespace cogo::detail
