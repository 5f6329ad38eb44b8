#include "cogo/sync/cond.hpp"

#include "cogo/select.hpp"

namespace cogo {

Task<> Cond::wait(Mutex& mu, source_location where) { return wait_body(this, &mu, where); }

Task<Error> Cond::wait(Mutex& mu, const Context& ctx, source_location where) {
  return wait_ctx_body(this, &mu, ctx, where);
}

void Cond::enlist_and_unlock(Node& n, Mutex& mu) {
  {
    detail::LockGuard m(mu.mu_);
    if (!mu.locked_) throw usage_error("cogo: Cond::wait with a Mutex that is not locked");
  }
  {
    detail::LockGuard g(mu_);
    waiters_.push_back(&n);  // from here on a signal() finds this wait
  }
  try {
    mu.unlock();  // throws only if another party unlocked mu since the check (misuse)
  } catch (...) {
    leave(n);
    throw;
  }
}

bool Cond::leave(Node& n) noexcept {
  detail::LockGuard g(mu_);
  if (n.linked()) {
    detail::List::remove(&n);
    return false;
  }
  return n.signalled;
}

Task<> Cond::wait_body(Cond* c, Mutex* mu, source_location where) {
  Node n;
  c->enlist_and_unlock(n, *mu);
  co_await detail::SingleAwaiter<SignalCase>(SignalCase(c, &n, where));
  co_await mu->lock(where);
}

Task<Error> Cond::wait_ctx_body(Cond* c, Mutex* mu, Context ctx, source_location where) {
  Node n;
  c->enlist_and_unlock(n, *mu);
  Error err;
  auto done = ctx.done(where);
  if (done.lock() == nullptr) {
    // A context that can never end: a plain wait, which dumps show as a Cond wait.
    co_await detail::SingleAwaiter<SignalCase>(SignalCase(c, &n, where));
  } else {
    auto r = co_await cogo::select(SignalCase(c, &n, where), std::move(done));
    // The context won; but a signal may have picked this wait meanwhile, and then it
    // counts as signalled, lest the signal be lost.
    if (r.index() == 1 && !c->leave(n)) err = std::get<1>(r);
  }
  co_await mu->lock(where);
  co_return err;
}

detail::ListWaiter* Cond::pick_locked(Node* n) noexcept {
  n->signalled = true;
  // A wait that has not suspended yet sees the flag when it polls; one whose context
  // has won sees it when it leaves.
  if (n->ws != nullptr && n->ws->try_claim(n->index)) return n;
  return nullptr;
}

void Cond::signal() noexcept {
  detail::ListWaiter* w = nullptr;
  {
    detail::LockGuard g(mu_);
    if (detail::ListNode* n = waiters_.pop_front()) w = pick_locked(static_cast<Node*>(n));
  }
  if (w != nullptr) w->ws->wake();
}

void Cond::broadcast() noexcept {
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    while (detail::ListNode* n = waiters_.pop_front()) {
      if (detail::ListWaiter* w = pick_locked(static_cast<Node*>(n))) woken.push_back(w);
    }
  }
  detail::wake_all(woken);
}

}  // namespace cogo
