// Task bookkeeping, spawning, yield, and where callbacks run.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cogo/detail/executor.hpp"
#include "cogo/detail/format.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/promise.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"

namespace cogo {
namespace detail {

thread_local constinit ThreadState tls_runtime{};
#if defined(__clang__) || defined(COGO_OUT_OF_LINE_TLS)
ThreadState& this_thread() noexcept { return tls_runtime; }
#endif
std::atomic<const TraceHooks*> g_tracing{nullptr};

const char* wait_reason_text(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::none:
      return "running";
    case WaitReason::chan_receive:
      return "chan receive";
    case WaitReason::chan_send:
      return "chan send";
    case WaitReason::chan_receive_nil:
      return "chan receive (nil chan)";
    case WaitReason::chan_send_nil:
      return "chan send (nil chan)";
    case WaitReason::select:
      return "select";
    case WaitReason::select_no_cases:
      return "select (no cases)";
    case WaitReason::sleep:
      return "sleep";
    case WaitReason::sync_mutex_lock:
      return "sync.Mutex.Lock";
    case WaitReason::semacquire:
      return "semacquire";
    case WaitReason::context_done:
      return "context done";
    case WaitReason::timer_receive:
      return "timer receive";
    case WaitReason::task_await:
      return "task await";
    case WaitReason::sync_event:
      return "event wait";
    case WaitReason::sync_once:
      return "sync.Once.Do";
    case WaitReason::sync_cond_wait:
      return "sync.Cond.Wait";
    case WaitReason::sync_rwmutex_rlock:
      return "sync.RWMutex.RLock";
    case WaitReason::sync_rwmutex_lock:
      return "sync.RWMutex.Lock";
    case WaitReason::io_wait:
      return "IO wait";
  }
  return "unknown";
}

ResumeTarget& resume_target_here() noexcept {
  if (ResumeTarget* t = tls_runtime.target) return *t;
  return SchedulerImpl::current_or_default();
}

void note_wait(WaitReason reason, const source_location& site, const char* detail) noexcept {
  TaskRecord* t = tls_runtime.task;
  if (t == nullptr) return;
  if (COGO_UNLIKELY(g_tracing.load(std::memory_order_relaxed))) trace_stop(t, wait_reason_text(reason));
#if COGO_TASK_REGISTRY
  list_task(t);
  // The sequence lock's write side (see TaskRecord): odd while the fields change.
  const std::uint32_t seq = t->seq.load(std::memory_order_relaxed);
  t->seq.store(seq + 1, std::memory_order_relaxed);
  t->wait_reason.store(static_cast<std::uint8_t>(reason), std::memory_order_release);
  t->wait_site.store(site);
  t->wait_since.store(tls_runtime.now_coarse, std::memory_order_release);
  WaitDetail* d = t->detail.load(std::memory_order_relaxed);
  if (COGO_UNLIKELY(detail != nullptr)) {
    if (d == nullptr) {
      d = new (std::nothrow) WaitDetail;  // none if out of memory: the dump says less
      t->detail.store(d, std::memory_order_release);
    }
    if (d != nullptr) d->store(detail);
  } else if (COGO_UNLIKELY(d != nullptr)) {
    d->clear();
  }
  t->seq.store(seq + 2, std::memory_order_release);
  t->state.store(static_cast<std::uint8_t>(TaskState::waiting), std::memory_order_release);
#else
  (void)site;
  (void)detail;
#endif
}

void resume_loop(std::coroutine_handle<> h) noexcept {
  ThreadState& ts = tls_runtime;
  const bool outer = !ts.in_loop;
  ts.in_loop = true;
  for (;;) {
    h.resume();
    if (ts.finished != nullptr) {
      finish_root(*static_cast<PromiseBase*>(std::exchange(ts.finished, nullptr)));
    }
    if (ts.next == nullptr) break;
    h = std::coroutine_handle<>::from_address(std::exchange(ts.next, nullptr));
  }
  if (outer) ts.in_loop = false;
}

void finish_root(PromiseBase& p) noexcept {
  TaskRecord* r = p.record_;
  std::coroutine_handle<> h = p.start_.handle;
  if (p.exception_) {
    std::string what = "an exception";
    try {
      std::rethrow_exception(p.exception_);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "a non-exception";
    }
    std::string site;
    append_site(site, r->start_site);
    std::fprintf(stderr, "cogo: task %llu \"%s\" started at %s ended with an exception: %s\n",
                 static_cast<unsigned long long>(r->id), r->name.c_str(), site.c_str(),
                 what.c_str());
  }
  if (COGO_UNLIKELY(g_tracing.load(std::memory_order_relaxed))) trace_stop(r, "finished");
  tls_runtime.task = nullptr;
  // Leave the dumps before the frame goes, and count the task ended only once its frame
  // (and every destructor in it) is gone.
  SchedulerImpl* sched = static_cast<RegistryShard*>(r->registry_shard)->sched;
  void* shard = sched->unregister(r);
  h.destroy();
  sched->task_ended(shard);
}

void spawn(void* sched, PromiseBase& p, std::coroutine_handle<> h, std::string name,
           const source_location& site) {
  SchedulerImpl& s = sched != nullptr ? *static_cast<SchedulerImpl*>(sched)
                                      : SchedulerImpl::current_or_default();
  s.spawn(p, h, std::move(name), site);
}

std::uint64_t current_scheduler_id() noexcept {
  SchedulerImpl* s = SchedulerImpl::current();
  return s != nullptr ? s->id() : 0;
}

void post(Runnable* r) noexcept {
  SchedulerImpl* s = SchedulerImpl::current();
  if (s != nullptr && s->id() == r->home && s->accepting()) {
    s->post(r);  // the common case: fired on a worker of its own scheduler
    return;
  }
  post_home(r->home, r);
}

void refuse_blocking_wait(const char* what, const source_location& where) {
  if (tls_runtime.worker == nullptr) return;
  std::string site;
  append_site(site, where);
  throw usage_error(std::string("cogo: ") + what + " called at " + site +
                    " on a scheduler worker (from a task or a callback), where it would block "
                    "the worker and could wait for work queued behind it; co_await instead");
}

std::uint32_t select_random() noexcept {
  // xorshift32 per thread, seeded from the thread's stack address and the clock.
  thread_local std::uint32_t state = [] {
    int local = 0;
    auto seed = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&local) >> 4) ^
                static_cast<std::uint32_t>(monotonic_ns());
    return seed != 0 ? seed : 0x9E3779B9u;
  }();
  std::uint32_t x = state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  state = x;
  return x;
}

}  // namespace detail

void yield::Awaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  task_ = detail::tls_runtime.task;
  if (task_ != nullptr) {
    detail::list_task(task_);
    if (COGO_UNLIKELY(detail::g_tracing.load(std::memory_order_relaxed))) detail::trace_stop(task_, "yield");
  }
  item_.handle = h;
  detail::resume_target_here().yield_later(item_);
}

void yield::Awaiter::await_resume() const noexcept { detail::note_running(task_); }

}  // namespace cogo
