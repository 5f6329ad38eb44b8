// select, default_case
//
// co_await select(cases...) waits for the first of its cases to be ready and returns a
// std::variant whose index() is the case that won and whose value is that case's result:
//   ch.recv()      -> std::optional<T> (empty: closed and drained)
//   ch.send(v)     -> bool (false: the channel closed)
//   ctx.done()     -> Error (ctx.err())
//   after(d)       -> the time it fired
//   timer.recv()   -> the time the timer fired
//   default_case   -> std::monostate, when no other case is ready: select does not wait
//
// As in Go, when several cases are ready one is chosen uniformly at random. A select is
// lossless: no value is taken from or given to a channel (or a timer) unless its case is
// the one reported. Every losing case, timers included, is unregistered before select
// returns, so an after(d) case whose select completes on another case leaves no timer
// armed. Cases on a nil channel never fire; a select with none that can fire waits
// forever (Go's select{}).
//
// Thread safety: a select involves only its own frame and its cases' objects.
// Complexity: O(cases); no allocation. A select tries each case alone first, in its
//   random order, and when one completes it has locked nothing but what that case needs
//   (a buffered channel's ready case takes no lock at all) and built no wait state. Only
//   a select that must wait, or must decide on its default case, locks every case's lock
//   (sorted by address), polls again and registers. The default case is chosen only if,
//   at one moment under those locks, no case could proceed (detail/select_core.hpp).
// Example:
//   auto r = co_await cogo::select(jobs.recv(), ctx.done(), cogo::after(5s));
//   switch (r.index()) {
//     case 0: if (auto job = std::get<0>(r)) run(*job); break;
//     case 1: co_return std::get<1>(r);  // ctx.err()
//     case 2: log("idle for 5s"); break;
//   }
#pragma once

#include <coroutine>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/select_awaiter.hpp"
#include "cogo/detail/select_core.hpp"

namespace cogo {

// The case that makes a select return at once when nothing else is ready.
inline constexpr struct default_case_t {
} default_case;

namespace detail {
template <class C>
decltype(auto) as_case(C&& c) noexcept {
  if constexpr (std::is_same_v<std::decay_t<C>, default_case_t>) {
    return DefaultCase{};
  } else {
    return std::forward<C>(c);
  }
}
template <class C>
using case_t = std::decay_t<decltype(as_case(std::declval<C>()))>;
template <class C>
inline constexpr bool is_case_argument =
    !std::is_lvalue_reference_v<C> || std::is_same_v<std::decay_t<C>, default_case_t>;

// select() with no cases: waits forever.
struct ForeverAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> /*h*/) noexcept {
    note_wait(WaitReason::select_no_cases, site);
  }
  void await_resume() const noexcept {}
  source_location site;
};

}  // namespace detail

// Waits forever, like Go's empty select{}.
[[nodiscard]] inline detail::ForeverAwaiter select(source_location where = source_location::current()) {
  return detail::ForeverAwaiter{where};
}

template <class First, class... Rest>
[[nodiscard]] auto select(First&& first, Rest&&... rest) {
  static_assert(detail::is_case_argument<First> && (detail::is_case_argument<Rest> && ...),
                "select takes its cases as temporaries: select(ch.recv(), ctx.done())");
  using Awaiter = detail::SelectAwaiter<detail::case_t<First>, detail::case_t<Rest>...>;
  return Awaiter(detail::as_case(std::forward<First>(first)), detail::as_case(std::forward<Rest>(rest))...);
}

}  // namespace cogo
