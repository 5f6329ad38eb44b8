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
//
// select follows Go's selectgo: lock every case's lock in address order, poll the cases
// in a random order (a uniform choice among the ready ones), else register on all and
// suspend; the first party to claim the WaitState decides the case and transfers its
// value under that case's lock, so no value is ever taken for a case that does not win.
// On wake-up the losers unregister before the select returns.
//
// Awaiters hold no lock between their calls: await_ready() polls under the locks and
// releases them, and await_suspend() takes them again, polls once more and registers.
// An adaptor may call await_ready() without suspending, call it twice, or drop the
// awaiter after it. poll() must therefore have no effect when it returns false (beyond
// what is harmless to repeat).
#pragma once

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "cogo/detail/lock.hpp"
#include "cogo/detail/promise.hpp"
#include "cogo/detail/runtime.hpp"

namespace cogo::detail {

// A case that can complete without a lock its awaiter holds while registering (its
// lock() is null) and that may do so on another thread: a timer. Such cases declare
// `static constexpr bool kWakesUnlocked = true`.
template <class Case>
inline constexpr bool wakes_unlocked = requires { requires Case::kWakesUnlocked; };

// A fast per-thread generator for select's poll order.
std::uint32_t select_random() noexcept;

// Locks the distinct non-null locks of `locks` in address order; `n` is the count.
// Returns how many distinct locks were taken (they are left sorted at the front).
template <std::size_t N>
std::size_t lock_all(std::array<Lock*, N>& locks) noexcept {
  std::sort(locks.begin(), locks.end());
  std::size_t k = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (locks[i] != nullptr && (k == 0 || locks[k - 1] != locks[i])) locks[k++] = locks[i];
  }
  for (std::size_t i = 0; i < k; ++i) locks[i]->lock();
  return k;
}

template <std::size_t N>
void unlock_all(const std::array<Lock*, N>& locks, std::size_t k) noexcept {
  // A copy: once the first lock is released the select may be woken, resumed elsewhere
  // and its frame (which holds `locks`) freed.
  std::array<Lock*, N> copy = locks;
  for (std::size_t i = 0; i < k; ++i) copy[i]->unlock();
}

// co_await of one case.
template <class Case>
class SingleAwaiter {
 public:
  explicit SingleAwaiter(Case&& c) noexcept : case_(std::move(c)) { ws_.single = true; }
  // Moving is for handing an awaiter over before it is awaited (sync_wait, block_on).
  SingleAwaiter(SingleAwaiter&& o) noexcept : case_(std::move(o.case_)) { ws_.single = true; }
  SingleAwaiter(const SingleAwaiter&) = delete;
  SingleAwaiter& operator=(const SingleAwaiter&) = delete;

  // Polls under the case's lock and releases it again: an awaiter holds no lock between
  // its calls, so an adaptor may call await_ready() alone, or twice, or drop the awaiter
  // after it.
  bool await_ready() noexcept {
    Lock* l = case_.lock();
    if (l != nullptr) l->lock();
    const bool ready = case_.poll(ws_, 0);
    if (l != nullptr) l->unlock();
    if (ready) case_.after_unlock();
    return ready;
  }

  // Polls again under the lock (the case may have become ready since await_ready), then
  // registers and releases the lock, or resumes at once.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    Lock* l = case_.lock();  // a local: the frame may be gone once it is unlocked
    if (l != nullptr) l->lock();
    if (case_.poll(ws_, 0)) {
      if (l != nullptr) l->unlock();
      case_.after_unlock();
      return false;
    }
    ws_.begin(h);
    note_wait(case_.reason(), case_.site());
    if constexpr (wakes_unlocked<Case>) {
      ws_.deferred_wake = true;
      case_.enqueue(ws_, 0);
      if (l != nullptr) l->unlock();
      return ws_.park();  // the last touch of the frame
    } else {
      case_.enqueue(ws_, 0);
      if (l != nullptr) l->unlock();  // null: a nil channel or a never-done context
      return true;
    }
  }

  typename Case::result_type await_resume() noexcept {
    if (ws_.handle) note_running(ws_.task);
    return case_.result();
  }

 private:
  Case case_;
  WaitState ws_;
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

template <class... Cases>
class SelectAwaiter {
 public:
  static constexpr std::size_t N = sizeof...(Cases);
  static constexpr std::size_t kNoDefault = N;
  static constexpr std::size_t kDefault = [] {
    std::size_t i = 0, at = kNoDefault;
    ((std::is_same_v<Cases, DefaultCase> ? (at = i, ++i) : ++i), ...);
    return at;
  }();
  using result_type = std::variant<typename Cases::result_type...>;

  explicit SelectAwaiter(Cases&&... cs) noexcept
      : cases_(std::move(cs)...),
        site_(std::apply([](const auto&... c) { return first_site(c...); }, cases_)) {}
  // Moving is for handing an awaiter over before it is awaited (sync_wait, block_on).
  SelectAwaiter(SelectAwaiter&& o) noexcept : cases_(std::move(o.cases_)), site_(o.site_) {}
  SelectAwaiter(const SelectAwaiter&) = delete;
  SelectAwaiter& operator=(const SelectAwaiter&) = delete;

  // Locks every case's lock, polls in a random order and unlocks: no lock is held
  // between the awaiter's calls.
  bool await_ready() noexcept {
    shuffle();
    if (poll_locked()) return true;
    if constexpr (kDefault != kNoDefault) {
      winner_ = static_cast<int>(kDefault);
      return true;
    }
    return false;
  }

  // Polls again with every lock held, then registers on all cases and unlocks, or
  // resumes at once with the case that became ready.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    collect_locks();
    nlocked_ = lock_all(locks_);
    for (std::size_t k = 0; k < N; ++k) {
      if (poll_case(order_[k])) {
        unlock_all(locks_, nlocked_);
        after_unlock_case(winner_);
        return false;
      }
    }
    ws_.begin(h);
    note_wait(N == 0 ? WaitReason::select_no_cases : WaitReason::select, site_);
    constexpr bool kDeferred = (wakes_unlocked<Cases> || ...);
    ws_.deferred_wake = kDeferred;
    // Register in the random poll order too: cases waiting on one queue (two sends on
    // one channel) are then taken in a random order, not always the first written.
    for (std::size_t k = 0; k < N; ++k) {
      const auto idx = order_[k];
      visit(idx, [&](auto& c) { c.enqueue(ws_, static_cast<int>(idx)); });
    }
    unlock_all(locks_, nlocked_);  // copies the locks first: the frame may go meanwhile
    if constexpr (kDeferred) {
      return ws_.park();  // the last touch of the frame
    } else {
      return true;
    }
  }

  result_type await_resume() noexcept {
    if (winner_ < 0) {
      // Woken: the winning party decided the case; the others unregister now.
      note_running(ws_.task);
      winner_ = ws_.winner.load(std::memory_order_acquire);
      nlocked_ = lock_all(locks_);
      dequeue_losers(std::make_index_sequence<N>());
      unlock_all(locks_, nlocked_);
      settle_losers(std::make_index_sequence<N>());
    }
    return make_result(std::make_index_sequence<N>());
  }

 private:
  // A fresh random poll order: the first ready case in it is a uniform choice among the
  // ready ones.
  void shuffle() noexcept {
    for (std::size_t i = 0; i < N; ++i) order_[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = N; i > 1; --i) {
      const std::size_t j = select_random() % i;
      std::swap(order_[i - 1], order_[j]);
    }
  }

  // Polls in order_ with every lock held; on success the locks are released and the
  // winner's after_unlock has run.
  bool poll_locked() noexcept {
    collect_locks();
    nlocked_ = lock_all(locks_);
    for (std::size_t k = 0; k < N; ++k) {
      if (poll_case(order_[k])) {
        unlock_all(locks_, nlocked_);
        after_unlock_case(winner_);
        return true;
      }
    }
    unlock_all(locks_, nlocked_);
    return false;
  }

  void collect_locks() noexcept {
    std::size_t i = 0;
    std::apply([&](auto&... c) { ((locks_[i++] = c.lock()), ...); }, cases_);
  }

  bool poll_case(std::size_t idx) noexcept {
    bool ready = false;
    visit(idx, [&](auto& c) { ready = c.poll(ws_, static_cast<int>(idx)); });
    if (ready) winner_ = static_cast<int>(idx);
    return ready;
  }

  void after_unlock_case(int idx) noexcept {
    visit(static_cast<std::size_t>(idx), [](auto& c) { c.after_unlock(); });
  }

  template <std::size_t... I>
  void dequeue_losers(std::index_sequence<I...>) noexcept {
    ((static_cast<int>(I) != winner_ ? std::get<I>(cases_).dequeue() : void()), ...);
  }

  template <std::size_t... I>
  void settle_losers(std::index_sequence<I...>) noexcept {
    ((static_cast<int>(I) != winner_ ? std::get<I>(cases_).settle() : void()), ...);
  }

  template <class F>
  void visit(std::size_t idx, F&& f) noexcept {
    visit_at(idx, f, std::make_index_sequence<N>());
  }
  template <class F, std::size_t... I>
  void visit_at(std::size_t idx, F& f, std::index_sequence<I...>) noexcept {
    ((idx == I ? f(std::get<I>(cases_)) : void()), ...);
  }

  template <std::size_t... I>
  result_type make_result(std::index_sequence<I...>) noexcept {
    result_type r;
    ((static_cast<int>(I) == winner_ ? (void)r.template emplace<I>(std::get<I>(cases_).result())
                                     : void()),
     ...);
    return r;
  }

  std::tuple<Cases...> cases_;
  std::array<Lock*, N> locks_{};
  std::array<std::uint8_t, N> order_{};
  std::size_t nlocked_ = 0;
  WaitState ws_;
  int winner_ = -1;
  source_location site_;
};

}  // namespace cogo::detail
