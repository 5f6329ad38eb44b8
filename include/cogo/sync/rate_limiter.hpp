// RateLimiter
//
// A token bucket (golang.org/x/time/rate's Limiter): `burst` tokens, initially full,
// refilled at `limit` tokens per second. Each event takes a token:
//   allow(n)        takes n tokens now if it can, else takes nothing and returns false;
//   reserve(n)      takes them now or in the future and says how long to wait first
//                   (a Reservation: ok(), delay(), cancel() gives back what it can);
//   co_await wait(ctx, n)  waits until n tokens are there, or fails early with an Error:
//                   n > burst, ctx done (ctx.err()), or a wait that would pass ctx's
//                   deadline, which it reports at once without waiting (as x/time does).
// set_limit() and set_burst() change the bucket; kInf allows everything (burst ignored);
// a limit of 0 allows only the burst, once. The *_at(t) forms take the time explicitly.
//
// Time comes from the timer service the limiter was created under: the steady clock, or
// the ManualClock of a ManualClock::Scope active on the creating thread, which then also
// drives wait()'s timer, so tests run without sleeping.
//
// Differences from x/time/rate: a wait that would pass the deadline returns an Error with
// code errc::deadline_exceeded (so is_timeout() is true; x/time returns a plain error),
// and one for more than the burst an Error with code std::errc::invalid_argument. A
// Reservation is move-only and its cancel() acts once. wait()'s timer is on the limiter's
// clock, and so is the "now" of every call without an explicit time.
//
// Thread safety: every member is safe from any thread and any task at once; a
//   Reservation is one party's value.
// Cancellation: wait() ends when ctx does and then gives its tokens back (cancel()).
// Lifetime: the limiter must outlive its Reservations and waits.
// Memory ordering: none beyond the limiter's own state.
// Complexity: O(1) per call; wait() arms one timer when it has to wait.
// Example:
//   cogo::RateLimiter lim(100, 10);          // 100 events/s, bursts of 10
//   if (auto err = co_await lim.wait(ctx)) co_return err;
//   send_request();
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>

#include "cogo/context.hpp"
#include "cogo/detail/config.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/error.hpp"
#include "cogo/task.hpp"

namespace cogo {

namespace detail {
class TimerService;
}

class RateLimiter {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = std::chrono::nanoseconds;

  // The limit that allows every event (Go's rate.Inf).
  static constexpr double kInf = std::numeric_limits<double>::max();
  // What Reservation::delay() says of a reservation that is not ok (Go's InfDuration).
  static constexpr duration kInfDuration = duration::max();

  // The limit of one event per `interval` (kInf for interval <= 0); Go's rate.Every.
  static double every(duration interval) noexcept;

  // `limit` events per second, bursts of `burst`; the bucket starts full.
  RateLimiter(double limit, int burst);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  class Reservation {
   public:
    // A moved-from Reservation is not ok.
    Reservation(Reservation&& o) noexcept
        : lim_(std::exchange(o.lim_, nullptr)), ok_(std::exchange(o.ok_, false)),
          cancelled_(o.cancelled_), tokens_(o.tokens_), act_ns_(o.act_ns_), limit_(o.limit_) {}
    Reservation& operator=(Reservation&& o) noexcept {
      lim_ = std::exchange(o.lim_, nullptr);
      ok_ = std::exchange(o.ok_, false);
      cancelled_ = o.cancelled_;
      tokens_ = o.tokens_;
      act_ns_ = o.act_ns_;
      limit_ = o.limit_;
      return *this;
    }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

    // Whether the tokens could be granted within the allowed wait (false if n > burst).
    bool ok() const noexcept { return ok_; }
    // How long to wait before acting: zero to act now, kInfDuration if not ok.
    duration delay() const noexcept;
    duration delay_from(time_point t) const noexcept;
    // When the reserved events may happen; meaningful only if ok().
    time_point time_to_act() const noexcept { return time_point(duration(act_ns_)); }
    // The holder will not act: gives back the tokens that no later reservation depends
    // on, as far as that is still possible. Acts once; no effect if not ok().
    void cancel() noexcept;
    void cancel_at(time_point t) noexcept;

   private:
    friend class RateLimiter;
    Reservation(RateLimiter* lim, bool ok, int tokens, std::int64_t act_ns, double limit) noexcept
        : lim_(lim), ok_(ok), tokens_(tokens), act_ns_(act_ns), limit_(limit) {}

    RateLimiter* lim_;
    bool ok_;
    bool cancelled_ = false;
    int tokens_;
    std::int64_t act_ns_;
    double limit_;  // the limit when it was made
  };

  double limit() const noexcept;
  int burst() const noexcept;
  // Tokens available now, or at t (negative when reservations are ahead of the refill).
  double tokens() const noexcept;
  double tokens_at(time_point t) const noexcept;

  // Takes n tokens now if they are there.
  bool allow(int n = 1) noexcept;
  bool allow_at(time_point t, int n = 1) noexcept;

  // Takes n tokens, now or in the future; the Reservation says when to act. Not ok if n
  // exceeds the burst (unless the limit is kInf) or the delay would exceed max_delay.
  Reservation reserve(int n = 1) noexcept;
  Reservation reserve_at(time_point t, int n = 1, duration max_delay = kInfDuration) noexcept;

  // Waits until n tokens can be taken; see above for the errors. Throws usage_error for
  // n < 0.
  [[nodiscard]] Task<Error> wait(const Context& ctx, int n = 1,
                                 source_location where = source_location::current());

  // A new limit or burst from now (or t) on; tokens accrued so far are kept. Events
  // already reserved keep their times, so the new values may briefly be exceeded.
  void set_limit(double limit) noexcept;
  void set_limit_at(time_point t, double limit) noexcept;
  void set_burst(int burst) noexcept;
  void set_burst_at(time_point t, int burst) noexcept;

  // The limiter's clock: the steady clock or the ManualClock it was created under.
  time_point now() const noexcept;

 private:
  static Task<Error> wait_body(RateLimiter* lim, Context ctx, int n, source_location where);
  Reservation reserve_ns(std::int64_t t, int n, std::int64_t max_delay_ns) noexcept;
  Reservation reserve_locked(std::int64_t t, int n, std::int64_t max_delay_ns) noexcept
      COGO_REQUIRES(mu_);
  // The bucket at time t, had time passed since last_: (t, tokens). Changes nothing.
  std::pair<std::int64_t, double> advance_locked(std::int64_t t) const noexcept COGO_REQUIRES(mu_);
  void cancel_at_ns(Reservation& r, std::int64_t t) noexcept;
  std::int64_t now_ns() const noexcept;

  detail::TimerService* svc_;  // a reference
  mutable detail::Lock mu_;
  double limit_ COGO_GUARDED_BY(mu_);
  int burst_ COGO_GUARDED_BY(mu_);
  double tokens_ COGO_GUARDED_BY(mu_);
  std::int64_t last_ COGO_GUARDED_BY(mu_);        // when tokens_ was last brought up to date
  std::int64_t last_event_ COGO_GUARDED_BY(mu_);  // the latest reserved event, past or future
};

}  // namespace cogo
