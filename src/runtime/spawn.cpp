// Starting root tasks, their records in the registry, and the live-task counts.
#include <new>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/scheduler_impl.hpp"

namespace cogo::detail {

std::uint64_t SchedulerImpl::next_task_id(Worker* w) noexcept {
  static std::atomic<std::uint64_t> next_block{1};
  constexpr std::uint64_t kIdBlock = 1024;  // ids by blocks: spawning touches no shared counter
  if (w == nullptr) return next_block.fetch_add(1, std::memory_order_relaxed) * kIdBlock;
  if (w->next_id == w->id_limit) {
    w->next_id = next_block.fetch_add(1, std::memory_order_relaxed) * kIdBlock + 1;
    w->id_limit = w->next_id + kIdBlock - 1;
  }
  return w->next_id++;
}

void SchedulerImpl::spawn(PromiseBase& p, std::coroutine_handle<> h, std::string name,
                          const source_location& site) {
  auto* w = static_cast<Worker*>(tls_runtime.worker);
  Worker* own = w != nullptr && w->sched == this ? w : nullptr;
  RegistryShard& shard = own != nullptr ? own->registry : external_registry_;
  void* mem = nullptr;
  try {
    mem = pool_allocate(sizeof(TaskRecord));
  } catch (...) {
    h.destroy();  // the task never starts; its frame (and what it holds) goes now
    throw;
  }
  TaskRecord* r = ::new (mem) TaskRecord;
  r->id = next_task_id(own);
  r->parent_id = tls_runtime.task != nullptr ? tls_runtime.task->id : 0;
  r->name = std::move(name);
  r->start_site = site;
  r->registry_shard = &shard;
#if COGO_TASK_REGISTRY
  r->push_frame(frame_function(h.address()));
#endif
  if (own != nullptr) {
    // Only this worker writes its shard's counts.
    shard.started.store(shard.started.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else {
    shard.started.fetch_add(1, std::memory_order_relaxed);
  }
  if (COGO_UNLIKELY(g_tracing.load(std::memory_order_relaxed))) trace_spawn(r);
  p.record_ = r;
  p.start_.handle = h;
  if (own != nullptr) {
    push_local(*own, &p.start_, true);
  } else {
    schedule(&p.start_, false);
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
  delete r->detail.load(std::memory_order_relaxed);
#endif
  r->~TaskRecord();
  pool_free(r, sizeof(TaskRecord));
  return shard;
}

void SchedulerImpl::task_ended(void* shard) noexcept {
  // Counted in the shard of the worker where the task ended, which only that worker
  // writes (a store, no read-modify-write, no line shared with the spawner); elsewhere in
  // the task's own. Pairs with live_tasks(): whoever sees the count rise sees the frame
  // gone.
  auto* w = static_cast<Worker*>(tls_runtime.worker);
  if (w != nullptr && w->sched == this) {
    std::atomic<std::uint64_t>& n = w->registry.ended;
    n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return;
  }
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

std::uint64_t SchedulerImpl::ticks() const noexcept {
  std::uint64_t n = 0;
  for (auto& w : workers_) n += w->ticks.load(std::memory_order_relaxed);
  return n;
}

}  // namespace cogo::detail
