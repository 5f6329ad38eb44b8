// after_func(ctx, f), AfterFunc
//
// Arranges for f() to run once ctx is done (cancelled or past its deadline). f runs on a
// worker of the current (or default) scheduler, never on the stack of the thread that
// cancels, and cancelling never waits for it. If ctx is already done, f is started at once
// (on a worker).
// Registrations are independent: one never replaces another. f must be a plain callable:
// one returning a cogo::Task is refused at compile time (start the task from f instead).
//
// The returned AfterFunc handle's stop() unregisters f: it returns true if that call
// prevented f from running, false if f has already been started or stop() already ran.
// stop() does not wait for a running f. Destroying the handle stops f unless detach() was
// called; detach() gives Go's behaviour of a dropped stop function.
//
// Thread safety: after_func and stop() are safe from any thread; one handle must not be
//   used by two threads at once (like any object).
// Exceptions: an exception escaping f is reported on stderr with the registration site
//   and otherwise ignored.
// Complexity: registering and stopping are O(1), one allocation.
// Example:
//   auto stop = cogo::after_func(ctx, [&] { conn.close(); });
//   ...
//   if (stop.stop()) { /* conn.close() will not run */ }
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "cogo/detail/after_func_link.hpp"
#include "cogo/detail/task_fwd.hpp"

namespace cogo {

class Context;

class [[nodiscard]] AfterFunc {
 public:
  AfterFunc() noexcept = default;
  explicit AfterFunc(detail::AfterFuncLink* link) noexcept : link_(link) {}  // adopts a reference
  AfterFunc(AfterFunc&& o) noexcept : link_(std::exchange(o.link_, nullptr)) {}
  AfterFunc& operator=(AfterFunc&& o) noexcept {
    if (this != &o) {
      reset();
      link_ = std::exchange(o.link_, nullptr);
    }
    return *this;
  }
  AfterFunc(const AfterFunc&) = delete;
  AfterFunc& operator=(const AfterFunc&) = delete;
  ~AfterFunc() { reset(); }

  bool stop() noexcept { return link_ != nullptr && link_->stop(); }
  // Lets f run when the context is done even though this handle is gone.
  void detach() noexcept {
    if (link_) std::exchange(link_, nullptr)->release();
  }

 private:
  void reset() noexcept {
    if (link_) {
      link_->stop();
      std::exchange(link_, nullptr)->release();
    }
  }

  detail::AfterFuncLink* link_ = nullptr;
};

namespace detail {
AfterFunc register_after_func(const Context& ctx, AfterFuncLink* link) noexcept;
}

template <class F>
  requires std::invocable<std::decay_t<F>&>
[[nodiscard]] AfterFunc after_func(const Context& ctx, F&& f,
                                   source_location where = source_location::current()) {
  static_assert(!detail::returns_task_v<std::decay_t<F>>,
                "cogo::after_func: f returns a cogo::Task, which would be dropped unstarted; "
                "start it instead: after_func(ctx, [] { cogo::go(body()); })");
  return detail::register_after_func(
      ctx, new detail::AfterFuncImpl<std::decay_t<F>>(std::forward<F>(f), where));
}

}  // namespace cogo
