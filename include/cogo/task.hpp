// Task<T>, go, sync_wait, yield
//
// Task<T> is a lazy, move-only coroutine: it starts when awaited (or handed to go()) and
// `co_await task` yields its value or rethrows its exception. A task's frame comes from a
// per-thread pool, as does the small record go() keeps for a task it starts; a suspended
// task costs those, not a stack.
//
// go(task) starts a task on the current scheduler (the one whose worker calls it), or on
// the default scheduler outside any, and records its name and the site of the call for
// diagnostics. go(callable) starts a callable returning a Task, keeping the callable
// alive for the task's life; go(name, task) and go(name, callable) name the task. An exception escaping a task started by go() is reported on stderr with
// the task's name and start site, and goes no further.
//
// sync_wait(awaitable) runs any cogo awaitable from a plain thread and returns its value:
// channels, selects, wait groups, contexts and tasks all work from threads this way. The
// awaitable runs on the calling thread itself; when it waits, the thread sleeps until it
// is woken, then carries on. Called on a scheduler worker (from a task or a callback) it
// throws usage_error: co_await there. cogo::run (scheduler.hpp) is main()'s entry point.
//
// co_await yield() lets other runnable tasks run first.
//
// Thread safety: go() and sync_wait() are safe from any thread. A Task object is owned by
//   one party at a time, like any move-only value.
// Cancellation: a task is not cancelled from outside; pass it a Context and have it
//   select on ctx.done().
// Example:
//   cogo::Task<int> answer() { co_return 42; }
//   cogo::Task<> worker(cogo::Chan<int> ch) { while (auto v = co_await ch.recv()) use(*v); }
//   cogo::go("worker", worker(ch));
//   int x = cogo::sync_wait(answer());
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/promise.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/task_fwd.hpp"
#include "cogo/error.hpp"

namespace cogo {

template <class T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  class Awaiter {
   public:
    explicit Awaiter(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    bool await_ready() const noexcept { return !h_ || h_.done(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      promise_type& p = h_.promise();
      p.continuation_ = caller;
      if constexpr (std::is_base_of_v<detail::PromiseBase, P>) {
        p.record_ = caller.promise().record_;
      } else {
        p.record_ = detail::this_thread().task;
      }
#if COGO_TASK_REGISTRY
      if (p.record_ != nullptr) p.record_->push_frame(detail::frame_function(h_.address()));
#endif
      return detail::transfer_to(h_);  // start it; it comes back here when it finishes
    }
    T await_resume() {
      if (!h_) throw usage_error("cogo: co_await on an empty Task");
      promise_type& p = h_.promise();
      detail::note_running(p.record_);
      return p.take();
    }

   private:
    std::coroutine_handle<promise_type> h_;
  };

  Awaiter operator co_await() && noexcept { return Awaiter(h_); }
  Awaiter operator co_await() & noexcept { return Awaiter(h_); }

  // Gives up the frame; for go() and the runtime.
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, nullptr); }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
auto Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline auto Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// Starts a root task on `sched` (null: the current or default scheduler).
void spawn(void* sched, PromiseBase& p, std::coroutine_handle<> h, std::string name,
           const source_location& site);
}  // namespace detail

// Starts `task` on the current scheduler, or the default one outside any.
template <class T>
void go(Task<T> task, source_location where = source_location::current()) {
  if (!task) throw usage_error("cogo: go() called with an empty Task");
  auto h = task.release();
  detail::spawn(nullptr, h.promise(), h, std::string(), where);
}

// The same, naming the task for diagnostics.
template <class T>
void go(std::string name, Task<T> task, source_location where = source_location::current()) {
  if (!task) throw usage_error("cogo: go() called with an empty Task");
  auto h = task.release();
  detail::spawn(nullptr, h.promise(), h, std::move(name), where);
}

namespace detail {
// A callable that takes no arguments and returns a cogo::Task (by value).
template <class F>
concept TaskFactory = std::is_invocable_v<std::decay_t<F>&> &&
                      is_task<std::invoke_result_t<std::decay_t<F>&>>::value;

template <class F>
Task<> call_in_frame(F f) {
  co_await f();
}
}  // namespace detail

// Starts a callable returning a Task. The callable (and so a lambda's captures) lives in
// a frame of its own for as long as the task runs.
template <class F>
  requires detail::TaskFactory<F>
void go(F&& f, source_location where = source_location::current()) {
  go(detail::call_in_frame(std::decay_t<F>(std::forward<F>(f))), where);
}

// The same, naming the task for diagnostics.
template <class F>
  requires detail::TaskFactory<F>
void go(std::string name, F&& f, source_location where = source_location::current()) {
  go(std::move(name), detail::call_in_frame(std::decay_t<F>(std::forward<F>(f))), where);
}

// co_await yield(): lets the other runnable tasks of this worker run first. Each
// co_await gets an awaiter of its own (it holds the queue node), so one yield object may
// be awaited by any number of tasks.
struct yield {
  struct Awaiter {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept;
    void await_resume() const noexcept;
    detail::TaskRecord* task_ = nullptr;
    detail::RunItem item_;
  };
  Awaiter operator co_await() const noexcept { return {}; }
};

// Runs `awaitable` on the calling thread, which must not be a scheduler worker (a task
// or a callback: it would block the worker, and the work it waits for may be queued
// behind it); there it throws usage_error naming the call. co_await instead.
template <class A>
decltype(auto) sync_wait(A&& awaitable, source_location where = source_location::current());

}  // namespace cogo

#include "cogo/detail/sync_wait.hpp"
