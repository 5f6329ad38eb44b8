#include "cogo/detail/timer_service.hpp"

#include "cogo/detail/duration.hpp"
#include "cogo/detail/scheduler_impl.hpp"

namespace cogo::detail {

namespace {
// A 4-ary heap: shallower than a binary one, and a node's children share a cache line.
constexpr std::uint32_t kArity = 4;
thread_local TimerService* tls_override = nullptr;
void dispatch(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept {
  switch (e->kind) {
    case TimerKind::deadline:
      fire_deadline(e, gen, when);
      return;
    case TimerKind::timer:
      fire_timer(e, gen, when);
      return;
    case TimerKind::after:
      fire_after(e, gen, when);
      return;
  }
}
}  // namespace



TimerService::TimerService(bool manual, std::int64_t start_ns, TimerDriver* driver)
    : manual_(manual), driver_(driver) {
  adopted_link.svc = this;
  manual_now_.store(start_ns, std::memory_order_relaxed);
}

TimerService::~TimerService() = default;

TimerService* TimerService::make_steady(TimerDriver* driver) {
  return new TimerService(false, 0, driver);
}

TimerService* TimerService::make_manual(std::int64_t manual_start_ns) {
  return new TimerService(true, manual_start_ns, nullptr);
}

std::int64_t TimerService::deadline_after(std::int64_t delay_ns) const noexcept {
  // Always the precise clock that the driver compares deadlines with: a cheaper coarse
  // reading plus its resolution was measured lagging by more than that resolution, which
  // made long timers fire early.
  return saturating_add(now(), delay_ns);
}

TimerService& TimerService::current() noexcept {
  TimerService* s = tls_override;
  return s != nullptr ? *s : SchedulerImpl::current_or_default().timers();
}

TimerService* TimerService::set_thread_override(TimerService* s) noexcept {
  TimerService* old = tls_override;
  tls_override = s;
  return old;
}

void TimerService::place(std::uint32_t i, Slot s) noexcept {
  heap_[i] = s;
  s.entry->index = i;
}

void TimerService::sift_up(std::uint32_t i, Slot s) noexcept {
  while (i > 0) {
    const std::uint32_t parent = (i - 1) / kArity;
    if (heap_[parent].when <= s.when) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, s);
}

void TimerService::sift_down(std::uint32_t i, Slot s) noexcept {
  const auto n = static_cast<std::uint32_t>(heap_.size());
  for (;;) {
    const std::uint32_t first = i * kArity + 1;
    if (first >= n) break;
    const std::uint32_t last = first + kArity < n ? first + kArity : n;
    std::uint32_t best = first;
    for (std::uint32_t c = first + 1; c < last; ++c) {
      if (heap_[c].when < heap_[best].when) best = c;
    }
    if (heap_[best].when >= s.when) break;
    place(i, heap_[best]);
    i = best;
  }
  place(i, s);
}

void TimerService::remove_at(std::uint32_t i) noexcept {
  heap_[i].entry->index = TimerEntry::kNotArmed;
  const Slot last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  if (i > 0 && last.when < heap_[(i - 1) / kArity].when) {
    sift_up(i, last);
  } else {
    sift_down(i, last);
  }
}

void TimerService::update_earliest() noexcept {
  earliest_.store(heap_.empty() ? kNoDeadline : heap_.front().when, std::memory_order_release);
  armed_.store(heap_.size(), std::memory_order_relaxed);
}

void TimerService::arm(TimerEntry* e, std::int64_t when) {
  LockGuard g(mu_);
  heap_.push_back(Slot{when, e});
  ++e->gen;
  arms_.store(arms_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sift_up(static_cast<std::uint32_t>(heap_.size() - 1), Slot{when, e});
  update_earliest();
  if (driver_ != nullptr && when < planned_wake_) {
    // The driver sleeps past this deadline: tell it, and remember that it will now
    // wake by `when`, so that a burst of arms costs one wake-up, not one each.
    planned_wake_ = when;
    driver_->timer_armed(when);
  }
}

void TimerService::set_planned_wake(std::int64_t when) noexcept {
  LockGuard g(mu_);
  planned_wake_ = when;
}

std::int64_t TimerService::plan_wake() noexcept {
  LockGuard g(mu_);
  planned_wake_ = heap_.empty() ? kNoDeadline : heap_.front().when;
  return planned_wake_;
}

void TimerService::set_driver(TimerDriver* driver) noexcept {
  LockGuard g(mu_);
  driver_ = driver;
  planned_wake_ = kNoDeadline;
  if (driver_ != nullptr && !heap_.empty()) {
    planned_wake_ = heap_.front().when;
    driver_->timer_armed(planned_wake_);
  }
}

bool TimerService::disarm(TimerEntry* e) noexcept {
  LockGuard g(mu_);
  if (e->index == TimerEntry::kNotArmed) return false;
  remove_at(e->index);
  update_earliest();
  return true;
}

void TimerService::bump_generation(TimerEntry* e) noexcept {
  LockGuard g(mu_);
  ++e->gen;
}

std::int64_t TimerService::run_due(std::int64_t now) {
  for (;;) {
    TimerEntry* e;
    std::uint32_t gen;
    std::int64_t when;
    {
      LockGuard g(mu_);
      if (heap_.empty() || heap_.front().when > now) {
        const std::int64_t next = heap_.empty() ? kNoDeadline : heap_.front().when;
        planned_wake_ = next;
        return next;
      }
      e = heap_.front().entry;
      when = heap_.front().when;
      gen = e->gen;
      remove_at(0);
      update_earliest();
    }
    dispatch(e, gen, when);
  }
}

void TimerService::advance_manual(std::int64_t to) {
  for (;;) {
    std::int64_t next;
    {
      LockGuard g(mu_);
      next = heap_.empty() ? kNoDeadline : heap_.front().when;
    }
    if (next > to) break;
    // Time moves to each deadline as it fires, so that a ticker sees its own period.
    move_manual_to(next);
    run_due(next);
  }
  move_manual_to(to);
}

void TimerService::move_manual_to(std::int64_t t) noexcept {
  // Forward only, whatever other threads advance at the same time.
  std::int64_t now = manual_now_.load(std::memory_order_relaxed);
  while (t > now && !manual_now_.compare_exchange_weak(now, t, std::memory_order_acq_rel,
                                                       std::memory_order_relaxed)) {
  }
}

std::size_t TimerService::armed() const noexcept { return armed_.load(std::memory_order_relaxed); }

}  // namespace cogo::detail
