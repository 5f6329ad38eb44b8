#include "cogo/sync/rate_limiter.hpp"

#include <string>
#include <system_error>

#include "cogo/detail/duration.hpp"
#include "cogo/detail/timer_service.hpp"
#include "cogo/detail/timer_state.hpp"
#include "cogo/select.hpp"
#include "cogo/timer.hpp"

namespace cogo {

namespace {

constexpr std::int64_t kInfNs = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinNs = std::numeric_limits<std::int64_t>::min();

bool is_inf(double limit) noexcept { return limit >= RateLimiter::kInf; }

// Seconds in d, computed as whole seconds plus the fraction (as Go's Duration.Seconds
// does), which keeps whole seconds exact.
double seconds_of(std::int64_t d) noexcept {
  const std::int64_t sec = d / 1'000'000'000;
  const std::int64_t nsec = d % 1'000'000'000;
  return static_cast<double>(sec) + static_cast<double>(nsec) / 1e9;
}

// How long `tokens` take to accrue at `limit` per second, truncated to a nanosecond and
// clamped to the int64 range; forever at a limit of zero or less.
std::int64_t duration_from_tokens(double limit, double tokens) noexcept {
  if (limit <= 0) return kInfNs;
  const double ns = 1e9 * (tokens / limit);
  if (!(ns < 9.2233720368547758e18)) return kInfNs;  // also NaN
  if (ns <= -9.2233720368547758e18) return kMinNs;
  return static_cast<std::int64_t>(ns);
}

// The tokens that accrue over d at `limit` per second.
double tokens_from_duration(double limit, std::int64_t d) noexcept {
  if (limit <= 0) return 0;
  return seconds_of(d) * limit;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? kInfNs : kMinNs;
  return r;
}

std::int64_t ns_of(RateLimiter::time_point t) noexcept {
  return detail::saturating_ns(t.time_since_epoch());
}

}  // namespace

double RateLimiter::every(duration interval) noexcept {
  if (interval.count() <= 0) return kInf;
  return 1 / seconds_of(interval.count());
}

RateLimiter::RateLimiter(double limit, int burst)
    : svc_(&detail::TimerService::current()), limit_(limit), burst_(burst), tokens_(burst) {
  svc_->add_ref();
  last_ = svc_->now();
  last_event_ = last_;
}

RateLimiter::~RateLimiter() { svc_->release(); }

std::int64_t RateLimiter::now_ns() const noexcept { return svc_->now(); }

RateLimiter::time_point RateLimiter::now() const noexcept { return time_point(duration(now_ns())); }

double RateLimiter::limit() const noexcept {
  detail::LockGuard g(mu_);
  return limit_;
}

int RateLimiter::burst() const noexcept {
  detail::LockGuard g(mu_);
  return burst_;
}

double RateLimiter::tokens() const noexcept { return tokens_at(now()); }

double RateLimiter::tokens_at(time_point t) const noexcept {
  detail::LockGuard g(mu_);
  return advance_locked(ns_of(t)).second;
}

bool RateLimiter::allow(int n) noexcept { return allow_at(now(), n); }

bool RateLimiter::allow_at(time_point t, int n) noexcept {
  detail::LockGuard g(mu_);
  return reserve_locked(ns_of(t), n, 0).ok();
}

RateLimiter::Reservation RateLimiter::reserve(int n) noexcept { return reserve_at(now(), n); }

RateLimiter::Reservation RateLimiter::reserve_at(time_point t, int n, duration max_delay) noexcept {
  return reserve_ns(ns_of(t), n, max_delay.count());
}

RateLimiter::Reservation RateLimiter::reserve_ns(std::int64_t t, int n, std::int64_t max_delay_ns) noexcept {
  detail::LockGuard g(mu_);
  return reserve_locked(t, n, max_delay_ns);
}

void RateLimiter::set_limit(double limit) noexcept { set_limit_at(now(), limit); }

void RateLimiter::set_limit_at(time_point t, double limit) noexcept {
  detail::LockGuard g(mu_);
  const auto [at, tokens] = advance_locked(ns_of(t));
  last_ = at;
  tokens_ = tokens;
  limit_ = limit;
}

void RateLimiter::set_burst(int burst) noexcept { set_burst_at(now(), burst); }

void RateLimiter::set_burst_at(time_point t, int burst) noexcept {
  detail::LockGuard g(mu_);
  const auto [at, tokens] = advance_locked(ns_of(t));
  last_ = at;
  tokens_ = tokens;
  burst_ = burst;
}

std::pair<std::int64_t, double> RateLimiter::advance_locked(std::int64_t t) const noexcept {
  // A time before the last update (a caller with an older reading) counts as no time
  // passed, not as negative time.
  const std::int64_t last = t < last_ ? t : last_;
  double tokens = tokens_ + tokens_from_duration(limit_, saturating_sub(t, last));
  if (tokens > burst_) tokens = burst_;
  return {t, tokens};
}

RateLimiter::Reservation RateLimiter::reserve_locked(std::int64_t t, int n,
                                                     std::int64_t max_delay_ns) noexcept {
  if (is_inf(limit_)) return Reservation(this, true, n, t, 0);
  if (limit_ == 0) {
    // No refill: the burst is all there will ever be, and each grant uses it up.
    const bool ok = burst_ >= n;
    if (ok) burst_ -= n;
    return Reservation(this, ok, burst_, t, 0);
  }
  auto [at, tokens] = advance_locked(t);
  tokens -= n;
  const std::int64_t wait_ns = tokens < 0 ? duration_from_tokens(limit_, -tokens) : 0;
  if (n > burst_ || wait_ns > max_delay_ns) return Reservation(this, false, 0, 0, limit_);
  const std::int64_t act = detail::saturating_add(at, wait_ns);
  last_ = at;
  tokens_ = tokens;
  last_event_ = act;
  return Reservation(this, true, n, act, limit_);
}

RateLimiter::duration RateLimiter::Reservation::delay() const noexcept {
  if (!ok_ || lim_ == nullptr) return kInfDuration;
  return delay_from(lim_->now());
}

RateLimiter::duration RateLimiter::Reservation::delay_from(time_point t) const noexcept {
  if (!ok_) return kInfDuration;
  const std::int64_t d = saturating_sub(act_ns_, ns_of(t));
  return duration(d < 0 ? 0 : d);
}

void RateLimiter::Reservation::cancel() noexcept {
  if (lim_ != nullptr) cancel_at(lim_->now());
}

void RateLimiter::Reservation::cancel_at(time_point t) noexcept {
  if (!ok_ || cancelled_ || lim_ == nullptr) return;
  cancelled_ = true;
  lim_->cancel_at_ns(*this, ns_of(t));
}

void RateLimiter::cancel_at_ns(Reservation& r, std::int64_t t) noexcept {
  detail::LockGuard g(mu_);
  // Nothing to give back once the events are due or past, or when nothing was taken.
  if (is_inf(limit_) || r.tokens_ == 0 || r.act_ns_ < t) return;
  // Reservations made after this one were timed on top of its tokens: those tokens
  // stay taken, and only the rest come back.
  const double restore =
      r.tokens_ - tokens_from_duration(r.limit_, saturating_sub(last_event_, r.act_ns_));
  if (restore <= 0) return;
  auto [at, tokens] = advance_locked(t);
  tokens += restore;
  if (tokens > burst_) tokens = burst_;
  last_ = at;
  tokens_ = tokens;
  if (r.act_ns_ == last_event_) {
    // It was the latest reservation: the latest event moves back to before it.
    const std::int64_t previous =
        detail::saturating_add(r.act_ns_, duration_from_tokens(r.limit_, -r.tokens_));
    if (previous >= at) last_event_ = previous;
  }
}

Task<Error> RateLimiter::wait(const Context& ctx, int n, source_location where) {
  if (n < 0) throw usage_error("cogo: RateLimiter::wait with a negative n (" + std::to_string(n) + ")");
  return wait_body(this, ctx, n, where);
}

Task<Error> RateLimiter::wait_body(RateLimiter* lim, Context ctx, int n, source_location where) {
  int burst = 0;
  double limit = 0;
  {
    detail::LockGuard g(lim->mu_);
    burst = lim->burst_;
    limit = lim->limit_;
  }
  if (n > burst && !is_inf(limit)) {
    co_return Error(std::make_error_code(std::errc::invalid_argument),
                    "cogo: RateLimiter::wait(n=" + std::to_string(n) + ") exceeds the burst " +
                        std::to_string(burst),
                    where);
  }
  if (ctx.is_done()) co_return ctx.err();
  const std::int64_t now = lim->now_ns();
  std::int64_t max_delay = kInfNs;
  if (const auto deadline = ctx.deadline()) max_delay = saturating_sub(ns_of(*deadline), now);
  Reservation r = lim->reserve_ns(now, n, max_delay);
  if (!r.ok()) {
    // Waiting could only end in the deadline: say so now.
    co_return Error(make_error_code(errc::deadline_exceeded),
                    "cogo: RateLimiter::wait(n=" + std::to_string(n) +
                        ") would exceed the context's deadline",
                    where);
  }
  const std::int64_t delay = r.delay_from(time_point(duration(now))).count();
  if (delay == 0) co_return Error();
  // The timer runs on the limiter's clock, which may be a ManualClock.
  Timer timer(detail::TimerState::make_one_shot(*lim->svc_, where));
  timer.state()->start(delay);
  auto done = ctx.done(where);
  if (done.lock() == nullptr) {
    (void)co_await timer.recv(where);
    co_return Error();
  }
  auto s = co_await cogo::select(std::move(done), timer.recv(where));
  if (s.index() == 1) co_return Error();
  // The context ended first: give back what the reservation took, which may let other
  // events happen sooner.
  r.cancel();
  co_return std::get<0>(s);
}

}  // namespace cogo
