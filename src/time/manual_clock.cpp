#include "cogo/manual_clock.hpp"

#include <algorithm>

#include "cogo/detail/duration.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo {

ManualClock::ManualClock() : svc_(detail::TimerService::make_manual(detail::monotonic_ns())) {}

ManualClock::~ManualClock() { svc_->release(); }

ManualClock::clock::time_point ManualClock::now() const noexcept {
  return clock::time_point(std::chrono::nanoseconds(svc_->now()));
}

namespace {
// The end of time is never reached, on this clock either: time stops one nanosecond short
// of it, so a deadline there never passes and a timer armed for it could never fire.
constexpr std::int64_t kLatest = detail::kEndOfTime - 1;
}  // namespace

void ManualClock::advance_ns(std::int64_t ns) {
  if (ns <= 0) return;
  advance_to(clock::time_point(std::chrono::nanoseconds(detail::saturating_add(svc_->now(), ns))));
}

void ManualClock::advance_to(clock::time_point t) {
  svc_->advance_manual(std::min(detail::saturating_ns(t.time_since_epoch()), kLatest));
}

std::size_t ManualClock::armed_timers() const noexcept { return svc_->armed(); }

ManualClock::Scope::Scope(ManualClock& c) noexcept {
  c.svc_->add_ref();  // the scope keeps the clock's service alive
  previous_ = detail::TimerService::set_thread_override(c.svc_);
}

ManualClock::Scope::~Scope() {
  detail::TimerService::set_thread_override(previous_)->release();
}

}  // namespace cogo
