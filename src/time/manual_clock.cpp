#include "cogo/manual_clock.hpp"

#include "cogo/detail/timer_service.hpp"

namespace cogo {

ManualClock::ManualClock() : svc_(detail::TimerService::make_manual(detail::monotonic_ns())) {}

ManualClock::~ManualClock() { svc_->release(); }

ManualClock::clock::time_point ManualClock::now() const noexcept {
  return clock::time_point(std::chrono::nanoseconds(svc_->now()));
}

void ManualClock::advance_ns(std::int64_t ns) {
  if (ns <= 0) return;
  svc_->advance_manual(detail::saturating_add(svc_->now(), ns));
}

void ManualClock::advance_to(clock::time_point t) {
  svc_->advance_manual(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
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
