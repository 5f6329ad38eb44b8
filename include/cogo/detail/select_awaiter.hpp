// co_await select(cases...): the awaiter. Internal; the protocol is in select_core.hpp.
#pragma once

#include <array>
#include <coroutine>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "cogo/detail/select_core.hpp"

namespace cogo::detail {

// select_random(), minus the call: an xorshift32 per thread, seeded from it once.
inline std::uint32_t select_shuffle_random() noexcept {
  static constinit thread_local std::uint32_t state = 0;
  std::uint32_t x = state;
  if (COGO_UNLIKELY(x == 0)) x = select_random() | 1;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  state = x;
  return x;
}

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
  // Cases whose failed poll leaves a mark that unpoll() removes (buffered channels).
  static constexpr bool kMarks = (HasUnpoll<Cases> || ...);
  static constexpr bool kDeferred = (wakes_unlocked<Cases> || ...);
  using result_type = std::variant<typename Cases::result_type...>;

  explicit SelectAwaiter(Cases&&... cs) noexcept : cases_(std::move(cs)...) {}
  // Moving is for handing an awaiter over before it is awaited (sync_wait, block_on).
  SelectAwaiter(SelectAwaiter&& o) noexcept : cases_(std::move(o.cases_)) {}
  SelectAwaiter(const SelectAwaiter&) = delete;
  SelectAwaiter& operator=(const SelectAwaiter&) = delete;

  // Tries each case alone in a fresh random order, without building any wait state: the
  // first that completes wins, a uniform choice among the ready ones. With a default
  // case, one locked snapshot follows before giving up.
  bool await_ready() noexcept {
    shuffle();
    for (std::size_t k = 0; k < N; ++k) {
      if (quick_case(order_[k])) {
        winner_ = static_cast<int>(order_[k]);
        return true;
      }
    }
    if constexpr (kDefault != kNoDefault) {
      Wakes woken;
      collect_locks();
      nlocked_ = lock_all(locks_);
      bool won = poll_all(woken);
      if (!won && kMarks) won = poll_all(woken);  // see "one moment" in select_core.hpp
      if (won) {
        unpoll_losers();
      } else {
        unpoll_losers();  // winner_ is -1: every case
        winner_ = static_cast<int>(kDefault);
      }
      unlock_all(locks_, nlocked_);
      woken.wake_all();
      after_unlock_case(winner_);
      return true;
    }
    return false;
  }

  // Polls again with every lock held, then registers on all cases and unlocks, or
  // resumes at once with the case that became ready.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    WaitState& ws = ws_.get(false);
    Wakes woken;  // on this stack: the frame may be gone once unlocked
    collect_locks();
    nlocked_ = lock_all(locks_);
    if (poll_all(woken)) {
      unpoll_losers();
      unlock_all(locks_, nlocked_);
      woken.wake_all();
      after_unlock_case(winner_);
      return false;
    }
    ws.begin(h);
    note_wait(N == 0 ? WaitReason::select_no_cases : WaitReason::select,
              std::apply([](const auto&... c) { return first_site(c...); }, cases_));
    ws.deferred_wake = kDeferred;
    // Register in the random poll order too: cases waiting on one queue (two sends on
    // one channel) are then taken in a random order, not always the first written.
    for (std::size_t k = 0; k < N; ++k) {
      const auto idx = order_[k];
      visit(idx, [&](auto& c) { c.enqueue(ws, static_cast<int>(idx)); });
    }
    unlock_all(locks_, nlocked_);  // copies the locks first: the frame may go meanwhile
    woken.wake_all();
    if constexpr (kDeferred) {
      return ws.park();  // the last touch of the frame
    } else {
      return true;
    }
  }

  result_type await_resume() noexcept {
    if (winner_ < 0) {
      // Woken: the winning party decided the case; the others unregister now.
      WaitState& ws = *ws_;
      note_running(ws.task);
      winner_ = ws.winner.load(std::memory_order_acquire);
      nlocked_ = lock_all(locks_);
      dequeue_losers(std::make_index_sequence<N>());
      unlock_all(locks_, nlocked_);
      settle_losers(std::make_index_sequence<N>());
    }
    return make_result<0>();
  }

 private:
  // A fresh random permutation (Fisher-Yates; a multiply-shift instead of a division).
  void shuffle() noexcept {
    for (std::size_t i = 0; i < N; ++i) order_[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = N; i > 1; --i) {
      const auto j = static_cast<std::size_t>((std::uint64_t{select_shuffle_random()} * i) >> 32);
      std::swap(order_[i - 1], order_[j]);
    }
  }

  // One case alone: try_fast(), or its own lock around poll().
  bool quick_case(std::size_t idx) noexcept {
    bool ready = false;
    visit(idx, [&](auto& c) COGO_NO_THREAD_SAFETY_ANALYSIS {
      using C = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<C, DefaultCase>) {
        ready = false;
      } else if constexpr (HasTryFast<C>) {
        ready = c.try_fast();
      } else {
        WaitState& ws = ws_.get(false);
        Lock* l = c.lock();
        if (l != nullptr) l->lock();
        ready = c.poll(ws, static_cast<int>(idx));
        if (l != nullptr) l->unlock();
        if (ready) c.after_unlock();
      }
    });
    return ready;
  }

  // With every lock held: polls in order_; the first ready case is the winner.
  bool poll_all(Wakes& woken) noexcept {
    WaitState& ws = ws_.get(false);
    for (std::size_t k = 0; k < N; ++k) {
      const auto idx = order_[k];
      bool ready = false;
      visit(idx, [&](auto& c) { ready = poll_case(c, ws, static_cast<int>(idx), woken); });
      if (ready) {
        winner_ = static_cast<int>(idx);
        return true;
      }
    }
    return false;
  }

  void unpoll_losers() noexcept {
    if constexpr (kMarks) unpoll_at(std::make_index_sequence<N>());
  }
  template <std::size_t... I>
  void unpoll_at(std::index_sequence<I...>) noexcept {
    (unpoll_one<I>(), ...);
  }
  template <std::size_t I>
  void unpoll_one() noexcept {
    using C = std::tuple_element_t<I, std::tuple<Cases...>>;
    if constexpr (HasUnpoll<C>) {
      if (static_cast<int>(I) != winner_) std::get<I>(cases_).unpoll();
    }
  }

  void collect_locks() noexcept {
    std::size_t i = 0;
    std::apply([&](auto&... c) { ((locks_[i++] = c.lock()), ...); }, cases_);
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

  // The winner's result, built in place.
  template <std::size_t I>
  result_type make_result() noexcept {
    if constexpr (I + 1 < N) {
      if (static_cast<int>(I) != winner_) return make_result<I + 1>();
    }
    return result_type(std::in_place_index<I>, std::get<I>(cases_).result());
  }

  std::tuple<Cases...> cases_;
  std::array<std::uint8_t, N> order_;
  int winner_ = -1;
  std::size_t nlocked_ = 0;
  std::array<Lock*, N> locks_;  // filled by collect_locks() when a lock is needed
  LazyWaitState ws_;
};

}  // namespace cogo::detail
