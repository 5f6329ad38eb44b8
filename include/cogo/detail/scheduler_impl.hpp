// The scheduler's internals. Internal.
//
// Each worker runs items (RunItem: a coroutine to resume or a callback) from, in order:
// its next-to-run slot, its local queue, the global queue, the due timers, the other
// workers' queues (stealing half) and their next-to-run slots when stuck. With nothing
// to run it spins briefly, then sleeps through the idle protocol of idle.hpp.
//
// The next-to-run slot holds the task a running task just woke (Go's runnext), so that
// two tasks talking to each other stay on one worker. A run from the slot inherits the
// current time slice: after kInherit consecutive runs from the slot the worker runs from
// its queue first, so a ping-pong pair cannot starve the rest of its queue (Go's
// TestAfterFuncStarvation). A slot whose waker keeps running (a CPU loop, a blocking
// call) is taken by an idle worker: the timer keeper watches occupied slots while any
// exist ("monitoring") and steals one that has not moved for a check period.
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
#include "cogo/detail/global_queue.hpp"
#include "cogo/detail/idle.hpp"
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

// I/O for a scheduler's workers (cogo::asio implements it: an io_context per worker).
// Installed once; destroyed with the scheduler, after its workers have stopped.
class IoExtension {
 public:
  IoExtension() = default;
  IoExtension(const IoExtension&) = delete;
  IoExtension& operator=(const IoExtension&) = delete;
  virtual ~IoExtension() = default;
  // The driver of worker `index`; the worker attaches it itself.
  virtual IoDriver* driver(unsigned index) noexcept = 0;
};

// One list of live tasks. Each worker has one (tasks it spawned), plus one for spawns
// from other threads; a finished task leaves the list it joined. Live tasks are counted
// as started (in the spawner's shard) minus ended (in the shard of the worker where they
// end), summed over shards: each worker's counters have one writer.
struct RegistryShard {
  SchedulerImpl* sched = nullptr;
  Lock mu;
  List tasks COGO_GUARDED_BY(mu);
  alignas(64) std::atomic<std::uint64_t> started{0};  // records added
  alignas(64) std::atomic<std::uint64_t> ended{0};    // tasks ended, frames freed
};

struct alignas(64) Worker {
  SchedulerImpl* sched = nullptr;
  unsigned index = 0;
  RunQueue queue;
  alignas(64) std::atomic<RunItem*> runnext{nullptr};
  std::atomic<std::uint64_t> ticks{0};       // items run; read by thieves and the monitor
  std::atomic<std::uint64_t> steals{0};      // items taken from other workers
  std::atomic<std::uint64_t> parks{0};       // times it went to sleep
  std::atomic<std::uint64_t> wakes{0};       // times it woke (the destructor's snapshot)
  std::atomic<bool> asleep{false};           // inside its Poller's wait
  std::uint32_t inherit = 0;                 // owner: consecutive runs from runnext
  std::uint64_t last_check = 0;              // owner: ticks when it last looked at timers first
  std::uint32_t rng = 1;                     // owner only
  std::uint64_t next_id = 0, id_limit = 0;   // owner only: a block of task ids
  std::vector<std::uint64_t> seen_ticks;     // owner only: victims' ticks at the last look
  WorkerPoller poller;
  IdleSet::Slot idle;
  RegistryShard registry;
  std::thread thread;
};

class SchedulerImpl final : public ResumeTarget, public TimerDriver {
 public:
  // Consecutive runs from the next-to-run slot before the queue goes first: long enough
  // that a ping-pong pair pays for the queue once in 64 hand-offs (under 2% of its
  // cost), short enough that a queued task waits at most 64 hand-offs, a few
  // microseconds, behind the pair. Go bounds the same inheritance by its 10 ms time slice.
  static constexpr std::uint32_t kInherit = 64;
  // How often a busy worker looks at the global queue and the timers first: Go's 61, a
  // prime, so that it does not fall into step with a producer's rhythm.
  static constexpr std::uint64_t kCheckInterval = 61;

  // Takes over one reference on `timers`; null: a steady-clock service this scheduler
  // drives.
  SchedulerImpl(Scheduler* owner, unsigned workers, TimerService* timers);
  ~SchedulerImpl();
  SchedulerImpl(const SchedulerImpl&) = delete;
  SchedulerImpl& operator=(const SchedulerImpl&) = delete;

  // ResumeTarget: a task woken on one of our workers goes to that worker's next slot;
  // from elsewhere, to the global queue.
  void resume_later(RunItem& item) noexcept override;
  void yield_later(RunItem& item) noexcept override;
  // TimerDriver: a deadline earlier than the keeper planned for was armed.
  void timer_armed(std::int64_t when) noexcept override;

  // Starts a root task. Takes the frame: if it throws (out of memory), h is destroyed.
  void spawn(PromiseBase& p, std::coroutine_handle<> h, std::string name,
             const source_location& site);
  void post(Runnable* r) noexcept;
  // Adopts a timer service whose scheduler is gone, so that its armed timers and
  // deadlines still fire on time (on this scheduler's workers). Takes one reference.
  void adopt_timers(TimerService* svc) noexcept;

  // I/O: installs `ext` unless one is installed already (then `ext` is destroyed), and
  // returns the one installed. Every worker attaches its driver before it next sleeps.
  IoExtension* install_io(std::unique_ptr<IoExtension> ext) noexcept;
  IoExtension* io_extension() const noexcept { return io_.load(std::memory_order_acquire); }
  // The index of the calling worker of this scheduler, or -1.
  int worker_index_here() const noexcept {
    auto* w = static_cast<Worker*>(this_thread().worker);
    return w != nullptr && w->sched == this ? static_cast<int>(w->index) : -1;
  }

  // A root task ends in two steps: its record leaves the registry and is freed (returns
  // its shard), then, once the frame is freed, the task stops counting as live.
  void* unregister(TaskRecord* r) noexcept;
  void task_ended(void* shard) noexcept;

  std::uint64_t id() const noexcept { return id_; }
  TimerService& timers() noexcept { return *timers_; }
  Scheduler* owner() const noexcept { return owner_; }
  unsigned worker_count() const noexcept { return static_cast<unsigned>(workers_.size()); }
  std::size_t live_tasks() const noexcept;
  std::uint64_t steals() const noexcept;
  std::uint64_t parks() const noexcept;
  // Items run by every worker so far: progress, for the stall report.
  std::uint64_t ticks() const noexcept;
  // Workers in the idle set right now (the scheduler is idle when all are).
  unsigned idle_workers() const noexcept { return idle_.idle(); }
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
  // Whether bound callbacks may still be posted here (false once the destructor has
  // unregistered the scheduler).
  bool accepting() const noexcept { return accepting_.load(std::memory_order_acquire); }

  // Calls f(record) for every live task, one registry shard locked at a time.
  template <class F>
  void for_each_task(F&& f);
  // Calls f(service) for its own timer service and those it adopted.
  template <class F>
  void for_each_timer_service_here(F&& f) {
    f(*timers_);
    if (!has_adopted_.load(std::memory_order_acquire)) return;
    LockGuard g(adopted_mu_);
    adopted_.for_each([&](ListNode* n) { f(*TimerService::from_adopted_link(n)); });
  }

  // The scheduler of the calling worker thread, or null.
  static SchedulerImpl* current() noexcept {
    auto* w = static_cast<Worker*>(this_thread().worker);
    return w != nullptr ? w->sched : nullptr;
  }
  static SchedulerImpl& current_or_default() noexcept;

 private:
  void worker_main(Worker& w) noexcept;
  RunItem* find_work(Worker& w) noexcept;
  // Attaches the worker's I/O driver once the scheduler has one; runs ready completions.
  void poll_io(Worker& w) noexcept;
  RunItem* take_local(Worker& w) noexcept;
  RunItem* pop_global(Worker& w) noexcept;
  RunItem* steal(Worker& w) noexcept;
  bool fire_timers(bool only_if_due) noexcept;
  // The keeper's sleep: until the earliest timer of every service it drives, and the
  // next monitor check while next-to-run slots are occupied.
  std::int64_t plan_sleep(Worker& w) noexcept;
  bool any_runnext() const noexcept;
  void park(Worker& w) noexcept;
  // Releases the keeper role if w holds it, handing it over when needed (idle.hpp, I5).
  void leave_keeper(Worker& w) noexcept;
  void run(Worker& w, RunItem* item) noexcept;
  void push_local(Worker& w, RunItem* item, bool next) noexcept;
  void push_global(RunItem* const* items, std::size_t n) noexcept;
  void schedule(RunItem* item, bool next) noexcept;
  void request_monitor() noexcept;
  bool quiescent() const noexcept;
  void drain() noexcept;
  std::uint64_t next_task_id(Worker* w) noexcept;

  const std::uint64_t id_;
  Scheduler* owner_;
  std::vector<std::unique_ptr<Worker>> workers_;
  TimerService* timers_;

  // Timer services adopted from schedulers that are gone (rarely any), each holding a
  // reference. Intrusive, so that adopting cannot fail. No callback ever runs under this
  // lock: fire_timers takes references and fires with it released.
  mutable Lock adopted_mu_;
  List adopted_ COGO_GUARDED_BY(adopted_mu_);
  std::atomic<bool> has_adopted_{false};

  // The global queue (global_queue.hpp) and its size, read without the lock.
  alignas(64) Lock global_mu_;
  GlobalQueue global_ COGO_GUARDED_BY(global_mu_);
  std::atomic<std::size_t> global_size_{0};

  IdleSet idle_;
  // True while the keeper watches next-to-run slots (see the top of this file).
  std::atomic<bool> monitoring_{false};
  std::int64_t monitor_period_ = 0;         // the keeper's only
  std::uint64_t monitor_ticks_ = 0;         // the keeper's only: ticks() at its last plan
  std::atomic<int> outside_calls_{0};  // schedule() calls in flight from non-workers
  std::atomic<bool> accepting_{true};
  std::atomic<IoExtension*> io_{nullptr};  // owned; freed after the workers stop

  RegistryShard external_registry_;

 public:
  // In the process's list of schedulers (see registry.cpp).
  struct AllLink : ListNode {
    SchedulerImpl* sched = nullptr;
  } all_link;
};

// Totals over every scheduler, live and gone.
struct SchedulerTotals {
  std::uint64_t started = 0, ended = 0, steals = 0, parks = 0;
};

// The process's list of live schedulers, for num_tasks(), dumps, figures and bound
// callbacks. A scheduler joins once its workers run and leaves once drained, adding its
// counts to the totals of schedulers gone (`counted`); retire_scheduler() adds what it
// counted after leaving, once it has stopped.
void register_scheduler(SchedulerImpl* s) noexcept;
void unregister_scheduler(SchedulerImpl* s, SchedulerTotals& counted) noexcept;
void retire_scheduler(SchedulerImpl* s, const SchedulerTotals& counted) noexcept;
// Posts r to the live scheduler with id `home`, or to the default scheduler if it is
// gone (or home is 0).
void post_home(std::uint64_t home, Runnable* r) noexcept;

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
// (schedulers may share a ManualClock's; the default one drives those of schedulers
// gone), with the scheduler list locked.
template <class F>
void for_each_timer_service(F&& f) {
  std::vector<TimerService*> seen;
  for_each_scheduler([&](SchedulerImpl& s) {
    s.for_each_timer_service_here([&](TimerService& svc) {
      if (std::find(seen.begin(), seen.end(), &svc) != seen.end()) return;
      seen.push_back(&svc);
      f(svc);
    });
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
