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
#include "cogo/manual_clock.hpp"

namespace cogo {
namespace detail {

namespace {

// Idle rounds a worker spins through (looking for work, pausing) before it sleeps.
constexpr int kSpinRounds = 64;
// How often a busy worker looks at the global queue and the timers first: Go's 61, a
// prime, so that it does not fall into step with a producer's rhythm.
constexpr std::uint64_t kCheckInterval = 61;
// Task ids are handed to workers in blocks, so that spawning touches no shared counter.
constexpr std::uint64_t kIdBlock = 1024;

std::atomic<std::uint64_t> next_id_block{1};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

inline std::uint32_t next_random(std::uint32_t& s) noexcept {
  // xorshift32: cheap victim order for stealing.
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

}  // namespace

SchedulerImpl::SchedulerImpl(Scheduler* owner, unsigned workers, TimerService* timers)
    : owner_(owner), timers_(timers != nullptr ? timers : TimerService::make_steady(this)) {
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  global_.resize(256);
  workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->sched = this;
    w->index = i;
    w->rng = 0x9E3779B9u * (i + 1);
    w->seen_ticks.assign(workers, 0);
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    Worker* raw = w.get();
    raw->thread = std::thread([this, raw] { worker_main(*raw); });
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
  // Drain: every task started here runs to its end.
  while (live_tasks() > 0) {
    std::atomic<std::uint32_t> never{0};
    futex_wait(never, 0, monotonic_ns() + 1'000'000);
  }
  // A thread that woke the last task may still be inside schedule(); its count was
  // taken before the task could run, so the task's end made it visible here.
  while (outside_calls_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  unregister_scheduler(this);
  stopping_.store(true, std::memory_order_seq_cst);
  for (auto& w : workers_) {
    w->park_word.store(1, std::memory_order_release);
    futex_wake(w->park_word, 1);
  }
  for (auto& w : workers_) w->thread.join();
  timers_->release();
}

SchedulerImpl& SchedulerImpl::current_or_default() noexcept {
  if (SchedulerImpl* s = current()) return *s;
  return Scheduler::default_scheduler().impl();
}

// ---------------------------------------------------------------- queues

void SchedulerImpl::push_global(std::uintptr_t item) noexcept { push_global_batch(&item, 1); }

void SchedulerImpl::push_global_batch(const std::uintptr_t* items, std::uint32_t n) noexcept {
  LockGuard g(global_mu_);
  std::size_t size = global_size_.load(std::memory_order_relaxed);
  if (size + n > global_.size()) {
    // Grow the ring, unrolling it so that it starts at index 0.
    std::vector<std::uintptr_t> bigger(std::max(global_.size() * 2, size + n));
    for (std::size_t i = 0; i < size; ++i) bigger[i] = global_[(global_head_ + i) % global_.size()];
    global_.swap(bigger);
    global_head_ = 0;
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    global_[(global_head_ + size + i) % global_.size()] = items[i];
  }
  global_size_.store(size + n, std::memory_order_release);
}

std::uintptr_t SchedulerImpl::pop_global(Worker& w) noexcept {
  if (global_size_.load(std::memory_order_acquire) == 0) return 0;
  std::uintptr_t batch[RunQueue::kCapacity / 2];
  std::size_t n = 0;
  {
    LockGuard g(global_mu_);
    const std::size_t size = global_size_.load(std::memory_order_relaxed);
    if (size == 0) return 0;
    // A fair share, bounded by what is there and by the room in the local queue.
    n = std::min<std::size_t>({size, size / workers_.size() + 1, RunQueue::kCapacity / 2,
                               RunQueue::kCapacity - w.queue.size()});
    if (n == 0) n = 1;
    for (std::size_t i = 0; i < n; ++i) {
      batch[i] = global_[global_head_];
      global_head_ = (global_head_ + 1) % global_.size();
    }
    global_size_.store(size - n, std::memory_order_release);
  }
  for (std::size_t i = 1; i < n; ++i) {
    if (!w.queue.push(batch[i])) push_global(batch[i]);
  }
  return batch[0];
}

void SchedulerImpl::push_local(Worker& w, std::uintptr_t item, bool next) noexcept {
  if (next) {
    item = w.runnext.exchange(item, std::memory_order_acq_rel);
    if (item == 0) return;  // the slot was free: the worker runs it next, nobody to wake
  }
  if (!w.queue.push(item)) {
    // Full: move half of the queue and this item to the global queue, as Go does.
    std::uintptr_t half[RunQueue::kCapacity / 2 + 1];
    const std::uint32_t n = w.queue.grab(half);
    half[n] = item;
    push_global_batch(half, n + 1);
  }
  maybe_wake();
}

void SchedulerImpl::schedule(std::uintptr_t item, bool next) noexcept {
  auto* w = static_cast<Worker*>(tls_runtime.worker);
  if (w != nullptr && w->sched == this) {
    push_local(*w, item, next);
    return;
  }
  // Counted so that the destructor, which may run as soon as the item's task finishes,
  // waits for this call to stop touching the scheduler.
  outside_calls_.fetch_add(1, std::memory_order_relaxed);
  push_global(item);
  // From outside, a lost wake-up could strand the item. Reading nidle_ with a
  // read-modify-write orders it after the push against park()'s increment (a Dekker
  // pair on one variable, which ThreadSanitizer understands; it does not model fences):
  // either this sees the parker counted, or the parker's increment reads ours and then
  // sees the pushed item.
  const int idle = nidle_.fetch_add(0, std::memory_order_acq_rel);
  if (nspinning_.load(std::memory_order_relaxed) == 0 && idle > 0) {
    wake_one();
  }
  outside_calls_.fetch_sub(1, std::memory_order_release);
}

void SchedulerImpl::maybe_wake() noexcept {
  // Only for parallelism: the pushing worker runs the work itself if nobody comes, so
  // an occasional missed wake-up costs time, never progress.
  if (nspinning_.load(std::memory_order_relaxed) == 0 &&
      nidle_.load(std::memory_order_relaxed) > 0) {
    wake_one();
  }
}

void SchedulerImpl::wake_one() noexcept {
  Worker* w = nullptr;
  {
    LockGuard g(idle_mu_);
    if (!idle_.empty()) {
      w = idle_.back();
      idle_.pop_back();
      nidle_.fetch_sub(1, std::memory_order_relaxed);
      // Counted spinning from now (Go's wakep): pushes until it runs wake nobody else.
      nspinning_.fetch_add(1, std::memory_order_relaxed);
      w->woken_spinning.store(true, std::memory_order_relaxed);
    }
  }
  if (w == nullptr) return;
  w->park_word.store(1, std::memory_order_release);
  futex_wake(w->park_word, 1);
}

void SchedulerImpl::resume_later(std::coroutine_handle<> h) noexcept {
  schedule(reinterpret_cast<std::uintptr_t>(h.address()), true);
}

void SchedulerImpl::post(Runnable* r) noexcept {
  schedule(reinterpret_cast<std::uintptr_t>(r) | kRunnableTag, false);
}

void SchedulerImpl::requeue(std::coroutine_handle<> h) noexcept {
  schedule(reinterpret_cast<std::uintptr_t>(h.address()), false);
}

// ---------------------------------------------------------------- workers

void SchedulerImpl::run(Worker& w, std::uintptr_t item) noexcept {
  w.ticks.store(w.ticks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if ((item & kRunnableTag) != 0) {
    auto* r = reinterpret_cast<Runnable*>(item & ~kRunnableTag);
    r->run(r);
  } else {
    resume_loop(std::coroutine_handle<>::from_address(reinterpret_cast<void*>(item)));
  }
  tls_runtime.task = nullptr;
}

std::uintptr_t SchedulerImpl::find_work(Worker& w) noexcept {
  const std::uint64_t tick = w.ticks.load(std::memory_order_relaxed);
  if (tick % kCheckInterval == 0) {
    poll_timers(w, false);
    if (std::uintptr_t it = pop_global(w)) return it;
  }
  if (w.runnext.load(std::memory_order_relaxed) != 0) {
    if (std::uintptr_t it = w.runnext.exchange(0, std::memory_order_acq_rel)) return it;
  }
  if (std::uintptr_t it = w.queue.pop()) return it;
  if (std::uintptr_t it = pop_global(w)) return it;
  return steal(w);
}

std::uintptr_t SchedulerImpl::steal(Worker& w) noexcept {
  const auto n = static_cast<std::uint32_t>(workers_.size());
  if (n < 2) return 0;
  const std::uint32_t start = next_random(w.rng) % n;
  std::uintptr_t batch[RunQueue::kCapacity / 2];
  for (std::uint32_t k = 0; k < n; ++k) {
    Worker& v = *workers_[(start + k) % n];
    if (&v == &w) continue;
    if (std::uint32_t got = v.queue.grab(batch)) {
      for (std::uint32_t i = 1; i < got; ++i) {
        if (!w.queue.push(batch[i])) push_global(batch[i]);
      }
      w.steals.fetch_add(got, std::memory_order_relaxed);
      return batch[0];
    }
    // A next-slot task of a worker that has run nothing since our last look is stuck
    // behind a long-running task: take it.
    const std::uint64_t ticks = v.ticks.load(std::memory_order_relaxed);
    if (v.runnext.load(std::memory_order_relaxed) != 0 && ticks == w.seen_ticks[v.index]) {
      if (std::uintptr_t it = v.runnext.exchange(0, std::memory_order_acq_rel)) {
        w.steals.fetch_add(1, std::memory_order_relaxed);
        return it;
      }
    }
    w.seen_ticks[v.index] = ticks;
  }
  return 0;
}

bool SchedulerImpl::work_visible() noexcept {
  if (global_size_.load(std::memory_order_acquire) > 0) return true;
  for (auto& v : workers_) {
    if (v->queue.size() > 0) return true;
  }
  return false;
}

bool SchedulerImpl::poll_timers(Worker& /*w*/, bool force) noexcept {
  TimerService& t = *timers_;
  if (t.is_manual()) return false;
  const std::int64_t earliest = t.earliest();
  if (earliest == kNoDeadline) return false;
  const std::int64_t now = monotonic_ns();
  if (!force && earliest > now) return false;
  const std::size_t before = t.armed();
  t.run_due(now);
  return t.armed() != before;
}

bool SchedulerImpl::park(Worker& w) noexcept {
  w.park_word.store(0, std::memory_order_relaxed);
  {
    LockGuard g(idle_mu_);
    idle_.push_back(&w);
    nidle_.fetch_add(1, std::memory_order_acq_rel);  // pairs with schedule()'s read
  }
  if (w.spinning) {
    w.spinning = false;
    nspinning_.fetch_sub(1, std::memory_order_relaxed);
  }

  // One idle worker keeps the timers: it sleeps only until the earliest deadline.
  std::int64_t deadline = kNoDeadline;
  Worker* expected = nullptr;
  const bool keeper = !timers_->is_manual() &&
                      timer_keeper_.compare_exchange_strong(expected, &w, std::memory_order_acq_rel);
  if (keeper) {
    const std::int64_t now = monotonic_ns();
    deadline = timers_->run_due(now);  // fires what is due, plans the next wake-up
  }
  const bool stop = stopping_.load(std::memory_order_acquire);
  if (!stop && !work_visible()) {
    w.parks.fetch_add(1, std::memory_order_relaxed);
    futex_wait(w.park_word, 0, deadline);
  }
  if (keeper) {
    timers_->set_planned_wake(kNoDeadline);  // nobody sleeps on the timers now
    timer_keeper_.store(nullptr, std::memory_order_release);
  }
  {
    LockGuard g(idle_mu_);
    auto it = std::find(idle_.begin(), idle_.end(), &w);
    if (it != idle_.end()) {
      idle_.erase(it);
      nidle_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  // A waker that took us off the idle list counted us spinning: take that count over.
  if (w.woken_spinning.exchange(false, std::memory_order_relaxed)) w.spinning = true;
  return !stopping_.load(std::memory_order_acquire);
}

void SchedulerImpl::timer_armed(std::int64_t /*when*/) noexcept {
  // Wake the keeper to re-plan; if there is none, wake any idle worker to become one.
  // Busy workers look at the timers every kCheckInterval tasks.
  if (Worker* k = timer_keeper_.load(std::memory_order_acquire)) {
    k->park_word.store(1, std::memory_order_release);
    futex_wake(k->park_word, 1);
    return;
  }
  if (nidle_.load(std::memory_order_relaxed) > 0) wake_one();
}

void SchedulerImpl::worker_main(Worker& w) noexcept {
  tls_runtime.worker = &w;
  tls_runtime.target = this;
  int idle_rounds = 0;
  for (;;) {
    if (std::uintptr_t item = find_work(w)) {
      idle_rounds = 0;
      if (w.spinning) {
        w.spinning = false;
        // The last spinner found work: there may be more, so get another one looking.
        if (nspinning_.fetch_sub(1, std::memory_order_relaxed) == 1) maybe_wake();
      }
      run(w, item);
      continue;
    }
    if (poll_timers(w, false)) continue;
    if (stopping_.load(std::memory_order_acquire)) break;
    if (idle_rounds++ < kSpinRounds) {
      if (!w.spinning) {
        w.spinning = true;
        nspinning_.fetch_add(1, std::memory_order_relaxed);
      }
      if (idle_rounds < kSpinRounds / 2) {
        for (int i = 0; i < 32; ++i) cpu_relax();
      } else {
        std::this_thread::yield();
      }
      continue;
    }
    idle_rounds = 0;
    if (!park(w)) break;
  }
  if (w.spinning) nspinning_.fetch_sub(1, std::memory_order_relaxed);
  tls_runtime = ThreadState{};
}

// ---------------------------------------------------------------- tasks

std::uint64_t SchedulerImpl::next_task_id(Worker* w) noexcept {
  if (w == nullptr) return next_id_block.fetch_add(1, std::memory_order_relaxed) * kIdBlock;
  if (w->next_id == w->id_limit) {
    w->next_id = next_id_block.fetch_add(1, std::memory_order_relaxed) * kIdBlock + 1;
    w->id_limit = w->next_id + kIdBlock - 1;
  }
  return w->next_id++;
}

void SchedulerImpl::spawn(PromiseBase& p, std::coroutine_handle<> h, std::string name,
                          const source_location& site) {
  auto* w = static_cast<Worker*>(tls_runtime.worker);
  Worker* own = w != nullptr && w->sched == this ? w : nullptr;
  RegistryShard& shard = own != nullptr ? own->registry : external_registry_;
  TaskRecord* r = ::new (pool_allocate(sizeof(TaskRecord))) TaskRecord;
  r->id = next_task_id(own);
  r->parent_id = tls_runtime.task != nullptr ? tls_runtime.task->id : 0;
  r->name = std::move(name);
  r->start_site = site;
  r->scheduler = this;
  r->registry_shard = &shard;
#if COGO_TASK_REGISTRY
  r->push_frame(frame_function(h.address()));
#endif
  shard.started.fetch_add(1, std::memory_order_relaxed);
  if (COGO_UNLIKELY(g_tracing.load(std::memory_order_relaxed))) trace_spawn(r);
  p.record_ = r;
  if (own != nullptr) {
    push_local(*own, reinterpret_cast<std::uintptr_t>(h.address()), true);
  } else {
    schedule(reinterpret_cast<std::uintptr_t>(h.address()), false);
  }
}

void list_task_slow(TaskRecord* t) noexcept {
  auto* shard = static_cast<RegistryShard*>(t->registry_shard);
  LockGuard g(shard->mu);
  shard->tasks.push_back(&t->registry_link);
  t->listed = true;
}

void* SchedulerImpl::unregister(TaskRecord* r) noexcept {
  auto* shard = static_cast<RegistryShard*>(r->registry_shard);
#if COGO_TASK_REGISTRY
  if (r->listed) {
    LockGuard g(shard->mu);
    List::remove(&r->registry_link);
  }
  // No dump can reach the record any more; bind_context ran on this task's thread.
  if (r->context != nullptr) static_cast<Node*>(r->context)->release();
#endif
  r->~TaskRecord();
  pool_free(r, sizeof(TaskRecord));
  return shard;
}

void SchedulerImpl::task_ended(void* shard) noexcept {
  // Pairs with live_tasks(): whoever sees the count rise sees the frame gone.
  static_cast<RegistryShard*>(shard)->ended.fetch_add(1, std::memory_order_release);
}

std::size_t SchedulerImpl::live_tasks() const noexcept {
  // Ended counts first: a task that starts in between is counted live, never missed.
  std::uint64_t ended = external_registry_.ended.load(std::memory_order_acquire);
  for (auto& w : workers_) ended += w->registry.ended.load(std::memory_order_acquire);
  std::uint64_t started = external_registry_.started.load(std::memory_order_acquire);
  for (auto& w : workers_) started += w->registry.started.load(std::memory_order_acquire);
  return static_cast<std::size_t>(started - ended);
}

std::uint64_t SchedulerImpl::steals() const noexcept {
  std::uint64_t n = 0;
  for (auto& w : workers_) n += w->steals.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t SchedulerImpl::parks() const noexcept {
  std::uint64_t n = 0;
  for (auto& w : workers_) n += w->parks.load(std::memory_order_relaxed);
  return n;
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
