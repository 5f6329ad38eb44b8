// The scheduler: its workers' loop and idle path, spawning, shutdown. Its timers are in
// scheduler_timers.cpp.
#include "cogo/scheduler.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <thread>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/detail/stall.hpp"
#include "cogo/manual_clock.hpp"

namespace cogo {
namespace detail {

namespace {

// Idle rounds a worker spins through (looking for work, pausing) before it sleeps.
constexpr int kSpinRounds = 64;
// The keeper's checks of stuck next-to-run slots: first soon, then less often while the
// slots keep moving.
constexpr std::int64_t kMonitorFirstNs = 20'000;
constexpr std::int64_t kMonitorMaxNs = 1'000'000;

std::atomic<std::uint64_t> next_scheduler_id{1};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

SchedulerImpl::SchedulerImpl(Scheduler* owner, unsigned workers, TimerService* timers)
    : id_(next_scheduler_id.fetch_add(1, std::memory_order_relaxed)),
      owner_(owner),
      timers_(timers != nullptr ? timers : TimerService::make_steady(this)),
      idle_(workers == 0 ? std::max(1u, std::thread::hardware_concurrency()) : workers) {
  external_registry_.sched = this;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->sched = this;
    w->index = i;
    w->rng = 0x9E3779B9u * (i + 1);
    w->seen_ticks.assign(workers, 0);
    w->idle.poller = &w->poller;
    w->registry.sched = this;
    workers_.push_back(std::move(w));
  }
  try {
    for (auto& w : workers_) {
      Worker* raw = w.get();
      raw->thread = std::thread([this, raw] { worker_main(*raw); });
    }
  } catch (...) {
    // No thread for a worker (out of threads or memory): stop the ones started; the
    // scheduler was never usable.
    idle_.stop();
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
    timers_->release();
    throw;
  }
  register_scheduler(this);
}

SchedulerImpl::~SchedulerImpl() {
  if (current() == this) {
    // It would wait for the task running this very code, then join its own thread.
    std::fputs("cogo: a Scheduler destroyed from one of its own workers can never finish "
               "draining; aborting\n", stderr);
    std::abort();
  }
  drain();
  // From here on, callbacks bound to this scheduler go to the default one; then wait for
  // what was posted here before.
  SchedulerTotals counted;
  unregister_scheduler(this, counted);
  accepting_.store(false, std::memory_order_release);
  drain();
  idle_.stop();
  for (auto& w : workers_) w->thread.join();
  retire_scheduler(this, counted);
  if (!timers_->is_manual() && !timers_->sole_reference() && this != &Scheduler::default_scheduler().impl()) {
    // Timers and deadlines armed here outlive the scheduler: the default one drives them.
    Scheduler::default_scheduler().impl().adopt_timers(timers_);
  } else {
    timers_->release();
  }
  {
    LockGuard g(adopted_mu_);
    while (ListNode* n = adopted_.pop_front()) TimerService::from_adopted_link(n)->release();
  }
  delete io_.load(std::memory_order_acquire);
}

IoExtension* SchedulerImpl::install_io(std::unique_ptr<IoExtension> ext) noexcept {
  IoExtension* expected = nullptr;
  if (io_.compare_exchange_strong(expected, ext.get(), std::memory_order_acq_rel)) {
    ext.release();
    // Every worker attaches its driver at its next look for work; wake those asleep.
    for (auto& w : workers_) w->poller.interrupt();
    return io_.load(std::memory_order_acquire);
  }
  return expected;  // `ext` goes: another was installed first
}

void SchedulerImpl::poll_io(Worker& w) noexcept {
  if (COGO_UNLIKELY(!w.poller.has_io())) {
    IoExtension* ext = io_.load(std::memory_order_acquire);
    if (COGO_LIKELY(ext == nullptr)) return;
    w.poller.attach(ext->driver(w.index));
  }
  w.poller.poll_io();
}

SchedulerImpl& SchedulerImpl::current_or_default() noexcept {
  if (SchedulerImpl* s = current()) return *s;
  return Scheduler::default_scheduler().impl();
}

// ---------------------------------------------------------------- shutdown

bool SchedulerImpl::quiescent() const noexcept {
  // A consistent snapshot: every worker asleep, and none woke while we looked.
  std::uint64_t wakes = 0;
  for (auto& w : workers_) {
    if (!w->asleep.load(std::memory_order_acquire)) return false;
    wakes += w->wakes.load(std::memory_order_acquire);
  }
  if (live_tasks() != 0 || global_size_.load(std::memory_order_acquire) != 0 ||
      outside_calls_.load(std::memory_order_acquire) != 0) {
    return false;
  }
  for (auto& w : workers_) {
    if (w->queue.size() != 0 || w->runnext.load(std::memory_order_acquire) != nullptr) return false;
  }
  std::uint64_t again = 0;
  for (auto& w : workers_) {
    if (!w->asleep.load(std::memory_order_acquire)) return false;
    again += w->wakes.load(std::memory_order_acquire);
  }
  return again == wakes;
}

void SchedulerImpl::drain() noexcept {
  // Every task started here runs to its end, and every callback queued here runs.
  StallWatch watch("a Scheduler destructor", source_location::current(), this);
  std::int64_t pause = 20'000;
  while (!quiescent()) {
    std::atomic<std::uint32_t> never{0};
    futex_wait(never, 0, monotonic_ns() + pause);
    pause = std::min<std::int64_t>(pause * 2, 1'000'000);
    watch.check();
  }
}

void SchedulerImpl::request_monitor() noexcept {
  // Set before waking: the keeper reads it when it plans its sleep.
  monitoring_.store(true, std::memory_order_seq_cst);
  if (!idle_.interrupt_keeper()) idle_.wake_one();
}

std::int64_t SchedulerImpl::plan_sleep(Worker& w) noexcept {
  std::int64_t deadline = timers_->is_manual() ? kNoDeadline : timers_->plan_wake();
  if (COGO_UNLIKELY(has_adopted_.load(std::memory_order_acquire))) {
    LockGuard g(adopted_mu_);
    for (ListNode* n = adopted_.front(); n != nullptr;) {
      ListNode* next = adopted_.next_of(n);
      TimerService* svc = TimerService::from_adopted_link(n);
      if (svc->armed() == 0 && svc->sole_reference()) {
        // Nothing armed and nobody else refers to it: done with. (A fire in progress
        // holds a reference, so it is never freed under one.)
        List::remove(n);
        svc->release();
      } else {
        deadline = std::min(deadline, svc->plan_wake());
      }
      n = next;
    }
    if (adopted_.empty()) has_adopted_.store(false, std::memory_order_release);
  }
  if (monitoring_.load(std::memory_order_seq_cst)) {
    // The watch goes on while any worker runs anything: a ping-pong empties and fills its
    // slot all the time, and restarting the watch would cost the pushing task a wake-up
    // of the keeper each time.
    const std::uint64_t progress = ticks();
    const bool active = progress != monitor_ticks_;
    monitor_ticks_ = progress;
    if (!active && !any_runnext()) {
      // Nothing to watch: stop, then look once more (paired with push_local's exchange
      // and load), so that a slot filled meanwhile restarts the watch.
      monitoring_.store(false, std::memory_order_seq_cst);
      if (any_runnext()) monitoring_.store(true, std::memory_order_seq_cst);
    }
    if (monitoring_.load(std::memory_order_relaxed)) {
      monitor_period_ = monitor_period_ == 0 ? kMonitorFirstNs
                                             : std::min(monitor_period_ * 2, kMonitorMaxNs);
      // The steal check compares each slot's worker's ticks with what it saw last.
      for (auto& v : workers_) w.seen_ticks[v->index] = v->ticks.load(std::memory_order_relaxed);
      deadline = std::min(deadline, monotonic_ns() + monitor_period_);
    } else {
      monitor_period_ = 0;
    }
  }
  return deadline;
}

// ---------------------------------------------------------------- workers

void SchedulerImpl::run(Worker& w, RunItem* item) noexcept {
  // Runs `item`, then hands the worker straight to the task its run woke into the
  // next-to-run slot, without going back through the loop, within the time slice (the
  // loop still comes first every kInherit runs, and then looks everywhere).
  for (;;) {
    const std::uint64_t tick = w.ticks.load(std::memory_order_relaxed) + 1;
    w.ticks.store(tick, std::memory_order_relaxed);
    if (tick % 16 == 0) tls_runtime.now_coarse = monotonic_ns_coarse();  // see note_wait
    if (item->handle) {
      resume_loop(item->handle);
    } else {
      auto* r = static_cast<Runnable*>(item);
      r->run(r);
    }
    tls_runtime.task = nullptr;
    if (w.inherit >= kInherit || w.runnext.load(std::memory_order_relaxed) == nullptr) return;
    item = w.runnext.exchange(nullptr, std::memory_order_acq_rel);
    if (item == nullptr) return;  // taken by a thief meanwhile
    ++w.inherit;
  }
}

RunItem* SchedulerImpl::find_work(Worker& w) noexcept {
  const std::uint64_t tick = w.ticks.load(std::memory_order_relaxed);
  if (tick - w.last_check >= kCheckInterval) {
    // Every so many runs: the timers, ready I/O and the global queue come first, so that
    // a busy worker cannot starve them.
    w.last_check = tick;
    fire_timers(true);
    poll_io(w);
    if (RunItem* it = pop_global(w)) return it;
  }
  if (RunItem* it = take_local(w)) return it;
  if (RunItem* it = pop_global(w)) return it;
  // Due timers and ready I/O wake their tasks into this worker's slots.
  if (fire_timers(true)) {
    if (RunItem* it = take_local(w)) return it;
  }
  poll_io(w);
  if (RunItem* it = take_local(w)) return it;
  return steal(w);
}

void SchedulerImpl::park(Worker& w) noexcept {
  const bool keeper = idle_.try_keep(w.idle);
  const std::int64_t deadline = keeper ? plan_sleep(w) : kNoDeadline;
  w.parks.fetch_add(1, std::memory_order_relaxed);
  w.asleep.store(true, std::memory_order_release);
  w.poller.wait(deadline);
  w.asleep.store(false, std::memory_order_relaxed);
  w.wakes.fetch_add(1, std::memory_order_acq_rel);
  w.poller.consume();
}

void SchedulerImpl::leave_keeper(Worker& w) noexcept {
  if (COGO_LIKELY(!idle_.holds_keeper(w.idle)) || !idle_.release_keeper(w.idle)) return;
  // Nobody sleeps on the timers now: the next arm is reported (and wakes a worker).
  timers_->set_planned_wake(kNoDeadline);
  bool armed = timers_->armed() != 0;
  if (COGO_UNLIKELY(has_adopted_.load(std::memory_order_acquire))) {
    LockGuard g(adopted_mu_);
    adopted_.for_each([&](ListNode* n) {
      TimerService* svc = TimerService::from_adopted_link(n);
      svc->set_planned_wake(kNoDeadline);
      armed = armed || svc->armed() != 0;
    });
  }
  // This worker goes to run something that may take long: hand the role over (I5).
  if ((armed || monitoring_.load(std::memory_order_seq_cst)) && idle_.idle_seq_cst() > 0) {
    idle_.wake_one();
  }
}

void SchedulerImpl::worker_main(Worker& w) noexcept {
  tls_runtime.worker = &w;
  tls_runtime.target = this;
  int idle_rounds = 0;
  tls_runtime.now_coarse = monotonic_ns_coarse();
  for (;;) {
    RunItem* item = find_work(w);
    if (item == nullptr) {
      if (idle_.stopping()) break;
      if (idle_rounds++ < kSpinRounds && idle_.start_spinning(w.idle)) {
        if (idle_rounds < kSpinRounds / 2) {
          for (int i = 0; i < 32; ++i) cpu_relax();
        } else {
          std::this_thread::yield();
        }
        continue;
      }
      idle_rounds = 0;
      idle_.announce(w.idle);
      if (idle_.stopping()) {
        idle_.retract(w.idle);
        break;
      }
      item = find_work(w);  // the recheck (I1)
      if (item == nullptr) {
        park(w);
        tls_runtime.now_coarse = monotonic_ns_coarse();
      }
      idle_.retract(w.idle);
      if (item == nullptr) continue;
      // Notifiers that saw this worker spinning before it announced woke nobody, counting
      // on it: work beyond this item may be waiting, so get another worker looking, as a
      // spinner that finds work does (Go's findRunnable becomes spinning again).
      idle_.notify_work();
    }
    idle_rounds = 0;
    leave_keeper(w);
    idle_.found_work(w.idle);
    run(w, item);
  }
  leave_keeper(w);
  idle_.found_work(w.idle);
  tls_runtime = ThreadState{};
}

}  // namespace detail

// ---------------------------------------------------------------- Scheduler

Scheduler::Scheduler() : Scheduler(SchedulerOptions{}) {}

Scheduler::Scheduler(SchedulerOptions options) {
  detail::TimerService* manual = nullptr;
  if (options.clock != nullptr) {
    manual = &options.clock->service();
    manual->add_ref();
  }
  impl_ = std::make_unique<detail::SchedulerImpl>(this, options.workers, manual);
}

Scheduler::~Scheduler() = default;

unsigned Scheduler::workers() const noexcept { return impl_->worker_count(); }

std::size_t Scheduler::live_tasks() const noexcept { return impl_->live_tasks(); }
std::size_t Scheduler::armed_timers() const noexcept { return impl_->timers().armed(); }

Scheduler& Scheduler::default_scheduler() {
  // Never destroyed: tasks and timers may run while the process exits.
  alignas(Scheduler) static unsigned char storage[sizeof(Scheduler)];
  static Scheduler* const s = [] {
    auto* sched = ::new (static_cast<void*>(storage)) Scheduler(SchedulerOptions{});
    sched->impl().timers().make_immortal();
    return sched;
  }();
  return *s;
}

Scheduler* Scheduler::current() noexcept {
  detail::SchedulerImpl* s = detail::SchedulerImpl::current();
  return s != nullptr ? s->owner() : nullptr;
}

}  // namespace cogo
