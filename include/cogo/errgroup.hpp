// ErrGroup
//
// A group of tasks working on parts of one job, x/sync/errgroup's semantics:
//   ErrGroup g(parent);            // g.context() is cancelled by the first failure
//   g.go([&] { return fetch(g.context(), url); });   // f returns Task<Error>, Task<>,
//   Error err = co_await g.wait();  //   Error or void; a throw counts as its error
//
// The first failure - an Error returned or an exception thrown, which becomes an Error
// with code errc::exception, the exception inside, and the site of the go() that started
// the failing task - cancels the group's context with that error as its cause, and is
// what wait() returns. wait() waits for every task, then cancels the context (cause: the
// first error, or plain canceled). A default-constructed group has no context of its own
// (context() is background) and cancels nothing, like Go's zero Group.
//
// set_limit(n) caps the tasks running at once (n < 0: no cap; 0: none may start).
// Unlike Go's Go, which blocks its caller at the cap, go() never blocks: tasks beyond the
// cap wait inside the group and start in order as running ones finish. try_go() starts a
// task only if it can start now. Changing the limit while tasks are active throws
// usage_error (Go panics).
//
// Thread safety: every member is safe from any thread and task at once.
// Lifetime: tasks keep the group's state alive. Destroying the group cancels its context,
//   so tasks still running are told to stop; await wait() first to collect them.
// Complexity: go() is O(1): one task frame for the group's wrapper plus f's own.
#pragma once

#include <deque>
#include <string>
#include <type_traits>
#include <utility>

#include "cogo/context.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/ref.hpp"
#include "cogo/error.hpp"
#include "cogo/sync.hpp"
#include "cogo/task.hpp"

namespace cogo {

namespace detail {

class ErrGroupState {
 public:
  ErrGroupState() = default;
  ErrGroupState(const Context& parent, source_location where);

  void add_ref() noexcept { refs_.add(); }
  void release() noexcept {
    if (refs_.drop()) delete this;
  }

  // Starts `t` now, or queues it behind the limit. `only_if_free`: refuse instead of
  // queueing (try_go). Returns whether the task was accepted.
  bool submit(Task<> t, bool only_if_free, const source_location& where);
  // A member task started at `site` ended with `err` (empty: success).
  void finish(Error err, const source_location& site) noexcept;
  void set_limit(int n);
  // The group goes away: cancel its context, naming where the group was created.
  void cancel_on_release() noexcept;

  Context ctx;
  CancelCauseFunc cancel_func;
  WaitGroup wg;  // tasks started or queued and not finished
  Lock mu;
  Error first COGO_GUARDED_BY(mu);

 private:
  RefCount refs_{1};
  source_location site_;
  // Without a limit (the common case) a task starts, and a successful one ends, with no
  // lock and no counter but the wait group's. With one, active_ counts running tasks.
  std::atomic<bool> unlimited_{true};
  int active_ COGO_GUARDED_BY(mu) = 0;
  int limit_ COGO_GUARDED_BY(mu) = -1;
  std::deque<std::pair<Task<>, source_location>> queued_ COGO_GUARDED_BY(mu);
};

template <class F>
Task<> errgroup_member(ErrGroupState* st, F f, source_location site) {
  Error err;
  try {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_same_v<R, Task<Error>>) {
      err = co_await f();
    } else if constexpr (std::is_same_v<R, Task<void>>) {
      co_await f();
    } else if constexpr (std::is_same_v<R, Error>) {
      err = f();
    } else {
      f();
    }
  } catch (...) {
    err = Error::from_exception(std::current_exception(), site);
  }
  st->finish(std::move(err), site);
  st->release();
}

Task<Error> errgroup_wait(Ref<ErrGroupState> st, source_location where);

}  // namespace detail

class ErrGroup {
 public:
  // Go's zero Group: no context of its own, no cancellation.
  ErrGroup();
  // Go's WithContext: context() is a child of parent cancelled by the first failure.
  explicit ErrGroup(const Context& parent, source_location where = source_location::current());
  ~ErrGroup();
  ErrGroup(const ErrGroup&) = delete;
  ErrGroup& operator=(const ErrGroup&) = delete;

  const Context& context() const noexcept { return st_->ctx; }

  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  void go(F&& f, source_location where = source_location::current()) {
    submit(std::forward<F>(f), false, where);
  }

  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  bool try_go(F&& f, source_location where = source_location::current()) {
    return submit(std::forward<F>(f), true, where);
  }

  void set_limit(int n) { st_->set_limit(n); }

  // Waits for every task of the group; returns the first failure (empty if none).
  [[nodiscard]] Task<Error> wait(source_location where = source_location::current()) {
    return detail::errgroup_wait(detail::Ref<detail::ErrGroupState>::share(st_), where);
  }

 private:
  template <class F>
  bool submit(F&& f, bool only_if_free, const source_location& where) {
    st_->add_ref();  // the member task's
    Task<> t = detail::errgroup_member(st_, std::decay_t<F>(std::forward<F>(f)), where);
    if (st_->submit(std::move(t), only_if_free, where)) return true;
    st_->release();  // refused: the task never runs
    return false;
  }

  detail::ErrGroupState* st_;
};

}  // namespace cogo
