// The scheduler's timers: its own service, and those it adopted from schedulers that
// ended while timers were still armed in them (see adopt_timers in scheduler_impl.hpp).
#include <cstdint>

#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo::detail {

void SchedulerImpl::adopt_timers(TimerService* svc) noexcept {
  // Listed and handed over in one step under the lock: the keeper, which plans under
  // that lock, either sees the service with its deadlines reported, or is told of them
  // by set_driver; and nobody can release the service in between.
  LockGuard g(adopted_mu_);
  adopted_.push_back(&svc->adopted_link);
  has_adopted_.store(true, std::memory_order_release);
  svc->set_driver(this);  // reports its earliest deadline to timer_armed
}

bool SchedulerImpl::fire_timers(bool only_if_due) noexcept {
  bool fired = false;
  auto one = [&](TimerService& t) {
    if (t.is_manual()) return;
    const std::int64_t earliest = t.earliest();
    if (earliest == kNoDeadline) return;
    const std::int64_t now = monotonic_ns();
    if (only_if_due && earliest > now) return;
    const std::uint64_t before = t.arms();
    const std::size_t armed = t.armed();
    t.run_due(now);
    fired = fired || t.armed() != armed || t.arms() != before;
  };
  one(*timers_);
  if (COGO_UNLIKELY(has_adopted_.load(std::memory_order_acquire))) {
    // Fired with the lock released: a fire runs callbacks and may post to schedulers (the
    // scheduler list's lock) or free what a callback held. A few at a time; the rest
    // next time, as they are moved to the back.
    constexpr int kBatch = 8;
    TimerService* batch[kBatch];
    int n = 0;
    {
      LockGuard g(adopted_mu_);
      while (n < kBatch) {
        ListNode* node = adopted_.front();
        if (node == nullptr) break;
        TimerService* svc = TimerService::from_adopted_link(node);
        if (n > 0 && svc == batch[0]) break;  // came round
        List::remove(node);
        adopted_.push_back(node);
        svc->add_ref();
        batch[n++] = svc;
      }
    }
    for (int i = 0; i < n; ++i) {
      one(*batch[i]);
      batch[i]->release();  // never the last while listed: the list holds one
    }
  }
  return fired;
}

void SchedulerImpl::timer_armed(std::int64_t /*when*/) noexcept {
  // Wake the keeper to re-plan; if there is none, wake an idle worker to become one.
  // Busy workers look at the timers every kCheckInterval items.
  if (!idle_.interrupt_keeper()) idle_.wake_one();
}

}  // namespace cogo::detail
