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
// Unlike Go's Go, which blocks its caller at the cap, go() never blocks: a task beyond the
// cap is started at once but waits at a gate inside the group (a dump shows it waiting,
// under its name, at its go() call) and runs f in go() order as running ones finish.
// try_go() starts a task only if it can start now. With a limit of 0, go() throws
// usage_error, since the task could never run. Changing the limit while tasks are
// active throws usage_error (Go panics). go(name, f) and try_go(name, f) name the task
// for dumps; unnamed ones are "errgroup". f must return Task<Error>, Task<>, Error or
// void: anything else (a Task<int>, whose work would never run) does not compile.
//
// Allocation failure: everything go() allocates comes before the group counts the task,
// and a failure to start it gives its place back, so a go() that throws bad_alloc leaves
// the group as it was and wait() does not hang.
//
// Thread safety: every member is safe from any thread and task at once.
// Lifetime: tasks keep the group's state alive. Destroying the group cancels its context,
//   so tasks still running are told to stop; await wait() first to collect them.
// Complexity: go() is O(1): one task frame for the group's wrapper plus f's own, and with a
//   limit a small gate.
#pragma once

#include <atomic>
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

// Whether ErrGroup::go accepts a callable returning R.
template <class R>
inline constexpr bool errgroup_result_ok =
    std::is_same_v<R, Task<Error>> || std::is_same_v<R, Task<void>> ||
    std::is_same_v<std::remove_cvref_t<R>, Error> || std::is_void_v<R>;

// Where a task queued behind the limit waits until the group lets it start, in the order
// of the go() calls. Shared by the group's queue and the waiting task.
struct ErrGroupGate {
  void add_ref() noexcept { refs.add(); }
  void release() noexcept {
    if (refs.drop()) delete this;
  }
  RefCount refs{1};
  Event open;
};

class ErrGroupState {
 public:
  ErrGroupState() = default;
  ErrGroupState(const Context& parent, source_location where);

  void add_ref() noexcept { refs_.add(); }
  void release() noexcept {
    if (refs_.drop()) delete this;
  }

  // Counts a task being added from its first step, so that set_limit() refuses to run
  // meanwhile, and uncounts it unless commit()ted: a go() that throws or is refused
  // leaves the group as it was.
  class Pending {
   public:
    explicit Pending(ErrGroupState* st) : st_(st) { st_->wg.add(1); }
    ~Pending() {
      if (st_ != nullptr) st_->wg.done();
    }
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    void commit() noexcept { st_ = nullptr; }

   private:
    ErrGroupState* st_;
  };

  // The gate a new task of a limited group waits at; null without a limit.
  Ref<ErrGroupGate> make_gate();
  // Lets the task with `gate` start now (opening the gate) or queues it behind the
  // limit; false if it cannot start now and `only_if_free`. Throws usage_error if the
  // limit is 0 (the task could never start), or bad_alloc, changing nothing.
  bool admit(const Ref<ErrGroupGate>& gate, bool only_if_free);
  // Starts the member task `t`; if that throws, gives back what admit() took and
  // rethrows. Commits `pending` once the task runs.
  void start(Task<> t, const Ref<ErrGroupGate>& gate, std::string name, const source_location& where,
             Pending& pending);
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
  // Frees the running slot of a task that ended or never started: to the first queued
  // task, if any (returned, to be opened once unlocked), else back to the limit.
  Ref<ErrGroupGate> pass_slot_locked() COGO_REQUIRES(mu);

  RefCount refs_{1};
  source_location site_;
  // Without a limit (the common case) a task starts, and a successful one ends, with no
  // lock and no counter but the wait group's. With one, active_ counts running tasks.
  // The mode changes only while no task is counted: set_limit() marks it kChanging,
  // then reads the count; go() counts its task, then reads the mode (waiting out
  // kChanging). Both sequentially consistent, so either set_limit() sees the task (and
  // refuses, restoring the mode) or the task sees the new mode.
  static constexpr int kUnlimited = 0, kLimited = 1, kChanging = 2;
  std::atomic<int> mode_{kUnlimited};
  int mode() const noexcept;
  int active_ COGO_GUARDED_BY(mu) = 0;
  int limit_ COGO_GUARDED_BY(mu) = -1;
  // Tasks started beyond the limit, waiting at their gates in go() order.
  std::deque<Ref<ErrGroupGate>> queued_ COGO_GUARDED_BY(mu);
};

template <class F>
Task<> errgroup_member(Ref<ErrGroupState> st, Ref<ErrGroupGate> gate, F f, source_location site) {
  if (gate) co_await gate->open.wait(site);  // queued behind the limit
  Error err;
  try {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_same_v<R, Task<Error>>) {
      err = co_await f();
    } else if constexpr (std::is_same_v<R, Task<void>>) {
      co_await f();
    } else if constexpr (std::is_void_v<R>) {
      f();
    } else {
      err = f();
    }
  } catch (...) {
    try {
      err = Error::from_exception(std::current_exception(), site);
    } catch (...) {
      // No memory to describe it (likely why f failed): the bare code, which allocates
      // nothing, so that finish() still runs and wait() returns.
      err = Error(errc::exception, site);
    }
  }
  st->finish(std::move(err), site);
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

  // Starts f as a member task (named "errgroup" in dumps, or `name`). f takes no
  // arguments and returns Task<Error>, Task<>, Error or void; any other return type is
  // refused at compile time. If go() throws (out of memory), the task is not part of the
  // group and the group is as it was. With a limit of 0 it throws usage_error: the task
  // could never start (Go's Go would block for ever).
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  void go(F&& f, source_location where = source_location::current()) {
    submit(std::string("errgroup"), std::forward<F>(f), false, where);
  }
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  void go(std::string name, F&& f, source_location where = source_location::current()) {
    submit(std::move(name), std::forward<F>(f), false, where);
  }

  // Starts f only if it can start now under the limit; returns whether it did.
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  bool try_go(F&& f, source_location where = source_location::current()) {
    return submit(std::string("errgroup"), std::forward<F>(f), true, where);
  }
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  bool try_go(std::string name, F&& f, source_location where = source_location::current()) {
    return submit(std::move(name), std::forward<F>(f), true, where);
  }

  void set_limit(int n) { st_->set_limit(n); }

  // Waits for every task of the group; returns the first failure (empty if none).
  [[nodiscard]] Task<Error> wait(source_location where = source_location::current()) {
    return detail::errgroup_wait(detail::Ref<detail::ErrGroupState>::share(st_), where);
  }

 private:
  template <class F>
  bool submit(std::string name, F&& f, bool only_if_free, const source_location& where) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    static_assert(detail::errgroup_result_ok<R>,
                  "ErrGroup::go: f must return cogo::Task<cogo::Error>, cogo::Task<>, cogo::Error "
                  "or void (any other Task would never be awaited, and its work never run)");
    // Counted from here on; every step below that throws, or a refusal, uncounts it.
    detail::ErrGroupState::Pending pending(st_);
    detail::Ref<detail::ErrGroupGate> gate = st_->make_gate();
    Task<> t = detail::errgroup_member(detail::Ref<detail::ErrGroupState>::share(st_), gate,
                                       std::decay_t<F>(std::forward<F>(f)), where);
    if (!st_->admit(gate, only_if_free)) return false;
    st_->start(std::move(t), gate, std::move(name), where, pending);
    return true;
  }

  detail::ErrGroupState* st_;
};

}  // namespace cogo
