// The scheduler's internals. Internal.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "cogo/detail/executor.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/promise.hpp"
#include "cogo/detail/run_queue.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo {
class Scheduler;
}

namespace cogo::detail {

class SchedulerImpl;

// One list of live tasks. Each worker has one (tasks it spawned), plus one for spawns
// from other threads; a finished task leaves the list it joined. Live tasks are counted
// as started minus ended, per shard.
struct RegistryShard {
  Lock mu;
  List tasks COGO_GUARDED_BY(mu);
  std::atomic<std::uint64_t> started{0};  // records added
  std::atomic<std::uint64_t> ended{0};    // tasks ended, frames freed
};

struct alignas(64) Worker {
  SchedulerImpl* sched = nullptr;
  unsigned index = 0;
  RunQueue queue;
  alignas(64) std::atomic<std::uintptr_t> runnext{0};
  std::atomic<std::uint32_t> park_word{0};
  std::atomic<std::uint64_t> ticks{0};       // items run; read by thieves
  std::atomic<std::uint64_t> steals{0};      // items taken from other workers
  std::atomic<std::uint64_t> parks{0};       // times it went to sleep
  bool spinning = false;                     // owner only
  // Set (under idle_mu_) by wake_one, which counted this worker spinning before waking
  // it, so that pushes in the meantime do not wake another; the worker takes it over.
  std::atomic<bool> woken_spinning{false};
  std::uint32_t rng = 1;                     // owner only
  std::uint64_t next_id = 0, id_limit = 0;   // owner only: a block of task ids
  std::vector<std::uint64_t> seen_ticks;     // owner only: victims' ticks at the last steal try
  RegistryShard registry;
  std::thread thread;
};

class SchedulerImpl final : public ResumeTarget, public TimerDriver {
 public:
  // Takes over one reference on `timers`; null: a steady-clock service this scheduler
  // drives.
  SchedulerImpl(Scheduler* owner, unsigned workers, TimerService* timers);
  ~SchedulerImpl();
  SchedulerImpl(const SchedulerImpl&) = delete;
  SchedulerImpl& operator=(const SchedulerImpl&) = delete;

  // ResumeTarget: a task woken on one of our workers goes to that worker's next slot.
  void resume_later(std::coroutine_handle<> h) noexcept override;
  // TimerDriver: a deadline earlier than any worker will look at was armed.
  void timer_armed(std::int64_t when) noexcept override;

  void spawn(PromiseBase& p, std::coroutine_handle<> h, std::string name,
             const source_location& site);
  void post(Runnable* r) noexcept;
  // Puts h at the back of the current worker's queue (yield).
  void requeue(std::coroutine_handle<> h) noexcept;
  // A root task ends in two steps: its record leaves the registry and is freed (returns
  // its shard), then, once the frame is freed, the task stops counting as live.
  void* unregister(TaskRecord* r) noexcept;
  void task_ended(void* shard) noexcept;

  TimerService& timers() noexcept { return *timers_; }
  Scheduler* owner() const noexcept { return owner_; }
  unsigned worker_count() const noexcept { return static_cast<unsigned>(workers_.size()); }
  std::size_t live_tasks() const noexcept;
  std::uint64_t steals() const noexcept;
  std::uint64_t parks() const noexcept;
  // Workers parked right now (the scheduler is idle when all are).
  unsigned idle_workers() const noexcept {
    return static_cast<unsigned>(nidle_.load(std::memory_order_acquire));
  }
  std::uint64_t tasks_ended() const noexcept {
    std::uint64_t n = external_registry_.ended.load(std::memory_order_relaxed);
    for (auto& w : workers_) n += w->registry.ended.load(std::memory_order_relaxed);
    return n;
  }
  std::uint64_t tasks_started() const noexcept {
    std::uint64_t n = external_registry_.started.load(std::memory_order_relaxed);
    for (auto& w : workers_) n += w->registry.started.load(std::memory_order_relaxed);
    return n;
  }

  // Calls f(record) for every live task, one registry shard locked at a time.
  template <class F>
  void for_each_task(F&& f);

  // The scheduler of the calling worker thread, or null.
  static SchedulerImpl* current() noexcept {
    auto* w = static_cast<Worker*>(tls_runtime.worker);
    return w != nullptr ? w->sched : nullptr;
  }
  static SchedulerImpl& current_or_default() noexcept;

 private:
  static constexpr std::uintptr_t kRunnableTag = 1;

  void worker_main(Worker& w) noexcept;
  std::uintptr_t find_work(Worker& w) noexcept;
  std::uintptr_t pop_global(Worker& w) noexcept;
  std::uintptr_t steal(Worker& w) noexcept;
  bool work_visible() noexcept;
  bool poll_timers(Worker& w, bool force) noexcept;
  bool park(Worker& w) noexcept;
  void run(Worker& w, std::uintptr_t item) noexcept;
  void push_local(Worker& w, std::uintptr_t item, bool next) noexcept;
  void push_global(std::uintptr_t item) noexcept;
  void push_global_batch(const std::uintptr_t* items, std::uint32_t n) noexcept;
  void schedule(std::uintptr_t item, bool next) noexcept;
  void wake_one() noexcept;
  void maybe_wake() noexcept;
  std::uint64_t next_task_id(Worker* w) noexcept;

  Scheduler* owner_;
  std::vector<std::unique_ptr<Worker>> workers_;
  TimerService* timers_;

  Lock global_mu_;
  std::vector<std::uintptr_t> global_ COGO_GUARDED_BY(global_mu_);  // a ring
  std::size_t global_head_ COGO_GUARDED_BY(global_mu_) = 0;
  std::atomic<std::size_t> global_size_{0};

  Lock idle_mu_;
  std::vector<Worker*> idle_ COGO_GUARDED_BY(idle_mu_);
  std::atomic<int> nidle_{0};
  std::atomic<int> outside_calls_{0};  // schedule() calls in flight from non-workers
  std::atomic<int> nspinning_{0};
  std::atomic<Worker*> timer_keeper_{nullptr};

  RegistryShard external_registry_;
  std::atomic<bool> stopping_{false};

 public:
  // In the process's list of schedulers (see diag_registry.cpp).
  struct AllLink : ListNode {
    SchedulerImpl* sched = nullptr;
  } all_link;
};

// The process's list of live schedulers, for num_tasks(), dumps and figures. A
// scheduler joins once its workers run and leaves once drained, adding its counts to
// the totals of schedulers gone.
void register_scheduler(SchedulerImpl* s) noexcept;
void unregister_scheduler(SchedulerImpl* s) noexcept;

// Totals over every scheduler, live and gone.
struct SchedulerTotals {
  std::uint64_t started = 0, ended = 0, steals = 0, parks = 0;
};
SchedulerTotals scheduler_totals() noexcept;

// Calls f(scheduler) for every live scheduler, with the list locked: none can finish
// its destruction meanwhile.
void for_each_scheduler_raw(void (*fn)(SchedulerImpl&, void*), void* arg);
template <class F>
void for_each_scheduler(F&& f) {
  for_each_scheduler_raw(
      [](SchedulerImpl& s, void* a) { (*static_cast<std::remove_reference_t<F>*>(a))(s); }, &f);
}

// Calls f(service) once for each distinct timer service of the live schedulers
// (schedulers may share a ManualClock's), with the scheduler list locked.
template <class F>
void for_each_timer_service(F&& f) {
  std::vector<TimerService*> seen;
  for_each_scheduler([&](SchedulerImpl& s) {
    TimerService* svc = &s.timers();
    if (std::find(seen.begin(), seen.end(), svc) != seen.end()) return;
    seen.push_back(svc);
    f(*svc);
  });
}

template <class F>
void SchedulerImpl::for_each_task(F&& f) {
  auto visit = [&](RegistryShard& shard) {
    LockGuard g(shard.mu);
    shard.tasks.for_each([&](ListNode* n) {
      f(reinterpret_cast<TaskRecord*>(reinterpret_cast<char*>(n) - offsetof(TaskRecord, registry_link)));
    });
  };
  for (auto& w : workers_) visit(w->registry);
  visit(external_registry_);
}

}  // namespace cogo::detail
