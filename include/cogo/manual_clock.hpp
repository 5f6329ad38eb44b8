// ManualClock
//
// A clock that moves only when told, with its own timer service, so that tests of
// deadlines, timers and tickers run without sleeping. While a ManualClock::Scope is
// active on a thread, the timers and context deadlines created on that thread use the
// manual clock; advance() then fires the due ones, in deadline order, on the calling
// thread, with now() set to each deadline as it fires.
//
// Thread safety: every member is safe from any thread at once. A Scope affects only the
//   thread that created it and must be destroyed on that thread.
// Lifetime: timers and deadline contexts keep the clock's service alive; destroying the
//   ManualClock while they exist is safe (they simply never fire).
// Example:
//   cogo::ManualClock clock;
//   cogo::ManualClock::Scope use(clock);
//   auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 250ms);
//   clock.advance(300ms);          // ctx.err(): context deadline exceeded (...)
#pragma once

#include <chrono>
#include <cstddef>

#include "cogo/detail/duration.hpp"

namespace cogo {

namespace detail {
class TimerService;
}

class ManualClock {
 public:
  using clock = std::chrono::steady_clock;

  // Starts at the steady clock's current time.
  ManualClock();
  ~ManualClock();
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  clock::time_point now() const noexcept;
  // Moves time forward by d (no effect for d <= 0), firing what falls due. d is rounded up
  // to whole nanoseconds; a NaN d throws std::invalid_argument.
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    advance_ns(detail::saturating_ns(d));
  }
  // Moves time forward to t; no effect if t is not later than now(). Time stops at
  // time_point::max() - 1ns: time_point::max() is the end of time, never reached, so
  // deadlines there never pass (see doc/timers.md).
  void advance_to(clock::time_point t);
  // Timers and deadlines armed on this clock.
  std::size_t armed_timers() const noexcept;

  // The clock's timer service; for Scheduler. Internal.
  detail::TimerService& service() const noexcept { return *svc_; }

  class Scope {
   public:
    explicit Scope(ManualClock& c) noexcept;
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    detail::TimerService* previous_;
  };

 private:
  void advance_ns(std::int64_t ns);
  detail::TimerService* svc_;
};

}  // namespace cogo
