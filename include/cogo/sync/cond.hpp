// Cond
//
// A condition variable for tasks (Go's sync.Cond), used with a cogo::Mutex:
//   co_await mu.lock();
//   while (!ready) co_await cond.wait(mu);   // unlocks mu, waits, relocks mu
//   mu.unlock();
// signal() wakes the longest waiter, broadcast() every waiter; neither needs the mutex
// held. co_await cond.wait(mu, ctx) also ends when ctx is done and then returns
// ctx.err(), with mu relocked all the same.
//
// No wake-up is lost between unlocking the mutex and waiting: wait() puts the caller on
// the Cond's list before it unlocks the mutex, so a signal() that follows the unlock
// finds it there. A wait ends only by signal(), broadcast() or its context (cogo has no
// spurious wake-ups), but as in Go the caller should re-check its condition in a loop:
// another task may have changed it before the mutex was relocked.
//
// Differences from Go: the mutex is passed to each wait instead of being fixed in the
// Cond (Go's c.L); there is no select case for a wait, because the wait must unlock the
// mutex after it registers, which a select has no step for: wait(mu, ctx) covers the
// cancellation and timeout uses (with_timeout). Waiting with a Mutex that is not locked
// throws usage_error (Go's Unlock of an unlocked mutex is a fatal error).
//
// Thread safety: every member is safe from any thread and any task at once.
// Cancellation: wait(mu) is not cancellation-aware; wait(mu, ctx) is. A wait whose
//   context ends just as a signal picks it returns success: the signal is not lost.
// Lifetime: the Cond and the Mutex must outlive the waits on them.
// Memory ordering: signal() and broadcast() happen-before the waits they end; the
//   mutex orders everything else.
// Complexity: O(1) per signal() and per wait, plus O(waiters) for broadcast(). Each wait
//   is a Task: one pooled frame.
// Example:
//   cogo::Mutex mu; cogo::Cond cond; std::deque<Job> jobs;
//   auto g = co_await mu.scoped_lock();
//   while (jobs.empty()) co_await cond.wait(mu);
#pragma once

#include "cogo/context.hpp"
#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"
#include "cogo/sync/mutex.hpp"
#include "cogo/task.hpp"

namespace cogo {

class Cond {
 public:
  Cond() noexcept = default;
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // Unlocks `mu` (which the caller must hold), waits for signal() or broadcast(), and
  // locks `mu` again before it completes.
  [[nodiscard]] Task<> wait(Mutex& mu, source_location where = source_location::current());
  // The same, also ending once ctx is done: returns ctx.err() then, with `mu` relocked.
  [[nodiscard]] Task<Error> wait(Mutex& mu, const Context& ctx,
                                 source_location where = source_location::current());

  // Wakes the longest waiter, if any.
  void signal() noexcept;
  // Wakes every waiter.
  void broadcast() noexcept;

 private:
  // A wait, listed from before the mutex is unlocked until it is signalled (then
  // unlisted by the signaller) or gives up.
  struct Node : detail::ListWaiter {
    bool signalled = false;  // guarded by the Cond's lock; ws is null until it waits
  };
  // The wait for a listed node's signal, as a case.
  class SignalCase {
   public:
    using result_type = bool;
    SignalCase(Cond* c, Node* n, source_location site) noexcept : c_(c), n_(n), site_(site) {}
    SignalCase(SignalCase&& o) noexcept : c_(o.c_), n_(o.n_), site_(o.site_) {}
    detail::Lock* lock() noexcept { return &c_->mu_; }
    bool poll(detail::WaitState&, int) noexcept { return n_->signalled; }
    void enqueue(detail::WaitState& ws, int index) noexcept {
      n_->ws = &ws;
      n_->index = index;
    }
    // Another case won: stay listed, so that the waiting task can tell under the lock
    // whether a signal picked it meanwhile.
    void dequeue() noexcept { n_->ws = nullptr; }
    void settle() noexcept {}
    void after_unlock() noexcept {}
    result_type result() noexcept { return true; }
    detail::WaitReason reason() const noexcept { return detail::WaitReason::sync_cond_wait; }
    const source_location& site() const noexcept { return site_; }

   private:
    Cond* c_;
    Node* n_;
    source_location site_;
  };

  static Task<> wait_body(Cond* c, Mutex* mu, source_location where);
  static Task<Error> wait_ctx_body(Cond* c, Mutex* mu, Context ctx, source_location where);
  // Lists `n` and unlocks `mu`; throws usage_error, listing nothing, if mu is not locked.
  void enlist_and_unlock(Node& n, Mutex& mu);
  // After a wait that its context ended: unlists `n` unless a signal already picked it.
  // Returns whether it was signalled.
  bool leave(Node& n) noexcept;
  // Under the lock: marks `n` signalled and claims its wait, if it waits.
  static detail::ListWaiter* pick_locked(Node* n) noexcept;

  detail::Lock mu_;
  detail::List waiters_ COGO_GUARDED_BY(mu_);  // Nodes, oldest first
};

}  // namespace cogo
