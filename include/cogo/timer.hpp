// Timer, Ticker, after_func(d, f)
//
// Timers on cogo's timer services: one heap of deadlines per scheduler, driven by that
// scheduler's own workers (an idle one sleeps until the earliest deadline); no thread
// exists for timers, let alone one per timer. Arm and stop are O(log n); a pending
// one-shot Timer holds a 48-byte block plus its 16-byte heap slot.
//
// Timer fires once; its value (the time it fired) is received with wait(), wait_for() or
// try_wait(), like Go's <-t.C. As in Go 1.23, after stop() or reset() returns no value
// from the earlier setting is ever received: stop() returns true if the timer was armed
// or had fired with its value not yet received, and discards that value.
//
// Ticker delivers a value every period; a value not yet received when the next tick comes
// is kept and the new tick dropped, so a slow receiver sees fewer ticks, not a backlog.
//
// after_func(d, f) runs f on the scheduler once d has passed; its Timer's stop() returns
// false once f has been started, and reset() schedules f again.
//
// From tasks: co_await t.recv() (also a select case), co_await sleep(d), sleep(ctx, d),
// and the select case after(d).
//
// Every Timer and Ticker stops when destroyed, unless detach()ed; an empty (default-
// constructed or moved-from) one throws cogo::usage_error from stop(), reset() and the
// waits, where Go would panic.
//
// Clocks: timers use the steady clock, or the ManualClock of a ManualClock::Scope active
//   on the thread that creates them (manual_clock.hpp). Blocking waits measure their own
//   timeouts on the steady clock. Nothing ends before its duration has passed.
// Durations: any std::chrono duration, rounded up to whole nanoseconds. Non-positive ones
//   are due at once; ones that reach time_point::max() saturate there and never fire (and
//   arm nothing); a NaN one throws std::invalid_argument (doc/timers.md, "Extremes").
// Thread safety: stop(), reset() and the waits are safe from any thread at once; moving,
//   assigning and destroying a handle are not.
// Lifetime: a handle must outlive the waits started through it (t.recv() in a select
//   included), as a Chan's must.
// Complexity: O(log n) per arm, stop and fire, n being the armed timers on the clock.
// Example:
//   cogo::Timer t(250ms);
//   if (auto fired = t.wait_for(1s)) log("fired at", *fired);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "cogo/context.hpp"
#include "cogo/detail/config.hpp"
#include "cogo/detail/duration.hpp"
#include "cogo/detail/timer_cases.hpp"
#include "cogo/detail/timer_state.hpp"
#include "cogo/error.hpp"
#include "cogo/task.hpp"

namespace cogo {

namespace detail {
class TimerHandle {
 public:
  using clock = std::chrono::steady_clock;

  TimerHandle() noexcept = default;
  explicit TimerHandle(TimerState* s) noexcept : s_(s) {}
  TimerHandle(TimerHandle&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  TimerHandle& operator=(TimerHandle&& o) noexcept {
    if (this != &o) {
      reset_handle();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~TimerHandle() { reset_handle(); }

  explicit operator bool() const noexcept { return s_ != nullptr; }
  // Lets the timer run on after the handle is gone.
  void detach() noexcept {
    if (s_) std::exchange(s_, nullptr)->release();
  }

  // Blocking receives, for plain threads: on a scheduler worker (in a task or a
  // callback) they throw usage_error naming the call; co_await t.recv() there.
  clock::time_point wait(source_location where = source_location::current()) const {
    return *receive_until(kNoDeadline, "Timer::wait", where);
  }
  template <class Rep, class Period>
  std::optional<clock::time_point> wait_for(std::chrono::duration<Rep, Period> d,
                                            source_location where = source_location::current()) const {
    return receive_until(saturating_add(monotonic_ns(), saturating_ns(d)), "Timer::wait_for", where);
  }
  std::optional<clock::time_point> try_wait() const;

  // Receiving from a task: an awaitable and a select case giving the time it fired
  // (Go's <-t.C). Throws usage_error on an empty handle.
  [[nodiscard]] TimerRecvCase recv(source_location where = source_location::current()) const {
    return TimerRecvCase(&checked("recv"), where);
  }

  TimerState* state() const noexcept { return s_; }

 protected:
  TimerState& checked(const char* what) const;
  std::optional<clock::time_point> receive_until(std::int64_t deadline_ns, const char* what,
                                                 const source_location& where) const;
  void reset_handle() noexcept {
    if (s_) {
      TimerState* s = std::exchange(s_, nullptr);
      // The only reference left is ours: the timer is not armed and nobody waits on it,
      // so there is nothing to stop.
      if (!s->sole_reference()) s->stop();
      s->release();
    }
  }

  TimerState* s_ = nullptr;
};
}  // namespace detail

class [[nodiscard]] Timer : public detail::TimerHandle {
 public:
  Timer() noexcept = default;
  // A timer that fires once, after d (at once for d <= 0).
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> d,
                 source_location where = source_location::current())
      : Timer(detail::saturating_ns(d), where) {}
  // Adopts a state; for after_func.
  explicit Timer(detail::TimerState* s) noexcept : TimerHandle(s) {}

  // True if this stopped the timer before its value was received.
  bool stop();
  // Re-arms to fire after d; returns what stop() would have.
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return reset_ns(detail::saturating_ns(d));
  }

 private:
  Timer(std::int64_t ns, source_location where);
  bool reset_ns(std::int64_t ns);
};

class [[nodiscard]] Ticker : public detail::TimerHandle {
 public:
  Ticker() noexcept = default;
  // Ticks every `period`; throws std::invalid_argument unless period > 0.
  template <class Rep, class Period>
  explicit Ticker(std::chrono::duration<Rep, Period> period,
                  source_location where = source_location::current())
      : Ticker(detail::saturating_ns(period), where) {}

  void stop();
  // Restarts with a new period; throws std::invalid_argument unless period > 0.
  template <class Rep, class Period>
  void reset(std::chrono::duration<Rep, Period> period) {
    reset_ns(detail::saturating_ns(period));
  }

 private:
  Ticker(std::int64_t ns, source_location where);
  void reset_ns(std::int64_t ns);
};

// A select case that fires once d has passed, counted from when the select starts to
// wait. It is armed only if the select has to wait, and disarmed when the select
// completes on another case: a time.After-style timeout in a loop leaves nothing armed.
template <class Rep, class Period>
[[nodiscard]] detail::AfterCase after(std::chrono::duration<Rep, Period> d,
                                      source_location where = source_location::current()) noexcept(
    detail::kExactRep<Rep>) {
  return detail::AfterCase(detail::saturating_ns(d), detail::WaitReason::select, where);
}

// co_await sleep(d): suspends the task for d (no thread blocks).
template <class Rep, class Period>
[[nodiscard]] detail::AfterCase sleep(std::chrono::duration<Rep, Period> d,
                                      source_location where = source_location::current()) noexcept(
    detail::kExactRep<Rep>) {
  return detail::AfterCase(detail::saturating_ns(d), detail::WaitReason::sleep, where);
}

namespace detail {
Task<Error> sleep_ctx(Context ctx, std::int64_t ns, source_location where);
}

// co_await sleep(ctx, d): sleeps for d, or less if ctx is done first; returns ctx.err()
// then, else an empty Error.
template <class Rep, class Period>
[[nodiscard]] Task<Error> sleep(const Context& ctx, std::chrono::duration<Rep, Period> d,
                                source_location where = source_location::current()) {
  return detail::sleep_ctx(ctx, detail::saturating_ns(d), where);
}

template <class Rep, class Period, class F>
  requires std::invocable<std::decay_t<F>&>
[[nodiscard]] Timer after_func(std::chrono::duration<Rep, Period> d, F&& f,
                               source_location where = source_location::current()) {
  const std::int64_t ns = detail::saturating_ns(d);  // may throw: before anything is made
  detail::TimerService& svc = detail::TimerService::current();
  auto* s = new detail::FuncTimer<std::decay_t<F>>(svc, std::forward<F>(f), where);
  Timer t(s);
  s->reset(ns);
  return t;
}

}  // namespace cogo
