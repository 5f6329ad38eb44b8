// The process's list of live schedulers, the totals of those gone, and num_tasks().
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/scheduler.hpp"

namespace cogo {
namespace detail {
namespace {

struct SchedulerList {
  Lock mu;
  List all COGO_GUARDED_BY(mu);
  SchedulerTotals gone COGO_GUARDED_BY(mu);
};

SchedulerList& schedulers() noexcept {
  static SchedulerList* list = new SchedulerList;  // never destroyed: used at exit
  return *list;
}

SchedulerImpl* from_all_link(ListNode* n) noexcept {
  return static_cast<SchedulerImpl::AllLink*>(n)->sched;
}


}  // namespace

void for_each_scheduler_raw(void (*fn)(SchedulerImpl&, void*), void* arg) {
  SchedulerList& l = schedulers();
  LockGuard g(l.mu);
  l.all.for_each([&](ListNode* n) { fn(*from_all_link(n), arg); });
}

void register_scheduler(SchedulerImpl* s) noexcept {
  SchedulerList& l = schedulers();
  LockGuard g(l.mu);
  s->all_link.sched = s;
  l.all.push_back(&s->all_link);
}

void unregister_scheduler(SchedulerImpl* s, SchedulerTotals& counted) noexcept {
  SchedulerList& l = schedulers();
  LockGuard g(l.mu);
  List::remove(&s->all_link);
  counted = SchedulerTotals{s->tasks_started(), s->tasks_ended(), s->steals(), s->parks()};
  l.gone.started += counted.started;
  l.gone.ended += counted.ended;
  l.gone.steals += counted.steals;
  l.gone.parks += counted.parks;
}

void retire_scheduler(SchedulerImpl* s, const SchedulerTotals& counted) noexcept {
  // What it did after it left the list (its second drain) joins the totals too.
  SchedulerList& l = schedulers();
  LockGuard g(l.mu);
  l.gone.started += s->tasks_started() - counted.started;
  l.gone.ended += s->tasks_ended() - counted.ended;
  l.gone.steals += s->steals() - counted.steals;
  l.gone.parks += s->parks() - counted.parks;
}

void post_home(std::uint64_t home, Runnable* r) noexcept {
  if (home != 0) {
    SchedulerList& l = schedulers();
    LockGuard g(l.mu);
    SchedulerImpl* found = nullptr;
    l.all.for_each([&](ListNode* n) {
      SchedulerImpl* s = from_all_link(n);
      if (s->id() == home) found = s;
    });
    // Posted under the list's lock: the scheduler cannot finish unregistering, and so
    // cannot stop, until the item is in its queue.
    if (found != nullptr && found->accepting()) {
      found->post(r);
      return;
    }
  }
  Scheduler::default_scheduler().impl().post(r);
}

SchedulerTotals scheduler_totals() noexcept {
  SchedulerList& l = schedulers();
  LockGuard g(l.mu);
  SchedulerTotals t = l.gone;
  l.all.for_each([&](ListNode* n) {
    SchedulerImpl* s = from_all_link(n);
    // Ended first, as live_tasks() does: a task that starts in between is never missed.
    t.ended += s->tasks_ended();
    t.started += s->tasks_started();
    t.steals += s->steals();
    t.parks += s->parks();
  });
  return t;
}

}  // namespace detail

std::size_t num_tasks() noexcept {
  std::size_t n = 0;
  detail::for_each_scheduler([&](detail::SchedulerImpl& s) { n += s.live_tasks(); });
  return n;
}

}  // namespace cogo
