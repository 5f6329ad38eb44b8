// The scheduler's queues: the next-to-run slots, the local rings, the global FIFO, and
// stealing between workers.
#include <algorithm>

#include "cogo/detail/scheduler_impl.hpp"

namespace cogo::detail {

namespace {

inline std::uint32_t next_random(std::uint32_t& s) noexcept {
  // xorshift32: a cheap victim order for stealing.
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

}  // namespace

// ---------------------------------------------------------------- global queue

void SchedulerImpl::push_global(RunItem* const* items, std::size_t n) noexcept {
  LockGuard g(global_mu_);
  global_.push(items, n);
  global_size_.store(global_.size(), std::memory_order_seq_cst);
}

RunItem* SchedulerImpl::pop_global(Worker& w) noexcept {
  // Sequentially consistent: a worker's recheck must see a push whose notify_work() saw it
  // spinning (idle.hpp, I1).
  if (global_size_.load(std::memory_order_seq_cst) == 0) return nullptr;
  RunItem* batch[RunQueue::kCapacity / 2];
  std::size_t n = 0;
  {
    LockGuard g(global_mu_);
    const std::size_t size = global_.size();
    if (size == 0) return nullptr;
    // A fair share, bounded by what is there and by the room in the local queue.
    std::size_t want = std::min<std::size_t>({size, size / workers_.size() + 1, RunQueue::kCapacity / 2,
                                              RunQueue::kCapacity - w.queue.size()});
    if (want == 0) want = 1;
    n = global_.pop(batch, want);
    global_size_.store(global_.size(), std::memory_order_release);
  }
  // The first runs now; the rest go to the local queue, where they fit by the bound, and
  // where an idle worker may steal them while this one runs the first.
  if (n == 1) return batch[0];
  for (std::size_t i = 1; i < n; ++i) {
    if (!w.queue.push(batch[i])) push_global(&batch[i], 1);  // unreachable by the bound
  }
  idle_.notify_work();
  return batch[0];
}

// ---------------------------------------------------------------- local queues

void SchedulerImpl::push_local(Worker& w, RunItem* item, bool next) noexcept {
  if (next) {
    item = w.runnext.exchange(item, std::memory_order_seq_cst);
    if (item == nullptr) {
      // The slot was free: this worker runs it once the waker waits or yields. If the
      // waker keeps running instead, the keeper's monitor hands it to an idle worker;
      // start the monitor unless it runs (paired with plan_sleep's clear and re-check).
      if (!monitoring_.load(std::memory_order_seq_cst)) request_monitor();
      return;
    }
    // The slot's previous task goes to the queue, where idle workers may steal it.
  }
  if (!w.queue.push(item)) {
    // Full: move half of the queue and this item to the global queue, as Go does.
    RunItem* half[RunQueue::kCapacity / 2 + 1];
    const std::uint32_t n = w.queue.grab(half);
    half[n] = item;
    push_global(half, n + 1);
  }
  idle_.notify_work();
}

RunItem* SchedulerImpl::take_local(Worker& w) noexcept {
  if (w.runnext.load(std::memory_order_relaxed) != nullptr) {
    if (RunItem* it = w.runnext.exchange(nullptr, std::memory_order_acq_rel)) {
      if (w.inherit < kInherit) {
        ++w.inherit;
        return it;
      }
      // The slice is used up: the slot's task goes behind the queue (I keep it on this
      // worker, where its partner is), and the queue's head runs first.
      w.inherit = 0;
      if (!w.queue.push(it)) return it;  // full: run it, the queue is served next
    }
  }
  w.inherit = 0;
  return w.queue.pop();
}

RunItem* SchedulerImpl::steal(Worker& w) noexcept {
  const auto n = static_cast<std::uint32_t>(workers_.size());
  if (n < 2) return nullptr;
  const std::uint32_t start = next_random(w.rng) % n;
  RunItem* batch[RunQueue::kCapacity / 2];
  for (std::uint32_t k = 0; k < n; ++k) {
    Worker& v = *workers_[(start + k) % n];
    if (&v == &w) continue;
    if (std::uint32_t got = v.queue.grab(batch)) {
      for (std::uint32_t i = 1; i < got; ++i) {
        if (!w.queue.push(batch[i])) push_global(&batch[i], 1);
      }
      w.steals.fetch_add(got, std::memory_order_relaxed);
      if (got > 1) idle_.notify_work();  // what this worker will not run at once
      return batch[0];
    }
    // A next-slot task of a worker that has run nothing since our last look is stuck
    // behind a task that keeps running: take it.
    const std::uint64_t ticks = v.ticks.load(std::memory_order_relaxed);
    if (v.runnext.load(std::memory_order_relaxed) != nullptr && ticks == w.seen_ticks[v.index]) {
      if (RunItem* it = v.runnext.exchange(nullptr, std::memory_order_acq_rel)) {
        w.steals.fetch_add(1, std::memory_order_relaxed);
        return it;
      }
    }
    w.seen_ticks[v.index] = ticks;
  }
  return nullptr;
}

bool SchedulerImpl::any_runnext() const noexcept {
  return std::any_of(workers_.begin(), workers_.end(), [](const std::unique_ptr<Worker>& v) {
    return v->runnext.load(std::memory_order_seq_cst) != nullptr;
  });
}

// ---------------------------------------------------------------- scheduling

void SchedulerImpl::schedule(RunItem* item, bool next) noexcept {
  auto* w = static_cast<Worker*>(tls_runtime.worker);
  if (w != nullptr && w->sched == this) {
    push_local(*w, item, next);
    return;
  }
  // Counted so that the destructor, which may run as soon as the item's task finishes,
  // waits for this call to stop touching the scheduler.
  outside_calls_.fetch_add(1, std::memory_order_relaxed);
  push_global(&item, 1);
  idle_.notify_work();
  outside_calls_.fetch_sub(1, std::memory_order_release);
}

void SchedulerImpl::resume_later(RunItem& item) noexcept { schedule(&item, true); }

void SchedulerImpl::yield_later(RunItem& item) noexcept { schedule(&item, false); }

void SchedulerImpl::post(Runnable* r) noexcept { schedule(r, false); }

}  // namespace cogo::detail
