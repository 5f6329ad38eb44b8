// Waiting on contexts from threads, and after_func registrations.
#include "cogo/context.hpp"

#include "cogo/detail/runtime.hpp"

namespace cogo {
namespace detail {

ThreadWaiter::ThreadWaiter() noexcept {
  notify = [](Link* self, CancelNode&) noexcept {
    auto* w = static_cast<ThreadWaiter*>(self);
    w->state.store(1, std::memory_order_release);
    // A wake on a waiter that already returned is harmless: futex_wake touches no memory.
    futex_wake(w->state, 1);
  };
}

namespace {
// Blocks until the CLOCK_MONOTONIC deadline passes (forever for kNoDeadline).
bool sleep_until(std::int64_t deadline_ns) noexcept {
  std::atomic<std::uint32_t> never{0};
  while (deadline_ns == kNoDeadline || monotonic_ns() < deadline_ns) {
    futex_wait(never, 0, deadline_ns);
  }
  return false;
}
}  // namespace

bool wait_done(CancelNode* n, std::int64_t deadline_ns) noexcept {
  if (n == nullptr) return sleep_until(deadline_ns);
  if (n->is_done()) return true;
  ThreadWaiter w;
  if (!n->subscribe(&w)) return true;
  while (w.state.load(std::memory_order_acquire) == 0) {
    if (futex_wait(w.state, 0, deadline_ns)) continue;
    // Timed out. Still listed: leave. Otherwise the canceller holds the waiter and is
    // about to notify it; wait for that so it never touches a dead stack frame.
    if (n->unsubscribe(&w)) return n->is_done();
    while (w.state.load(std::memory_order_acquire) == 0) futex_wait(w.state, 0);
    return true;
  }
  return true;
}

// ---------------------------------------------------------------- after_func

AfterFuncLink::AfterFuncLink(CallFn call, DestroyFn destroy, source_location site) noexcept
    : call_(call), destroy_(destroy), site_(site) {
  Link::notify = &AfterFuncLink::on_done;
  Runnable::run = &AfterFuncLink::on_run;
}

AfterFuncLink::~AfterFuncLink() {
  if (node_ != nullptr) node_->release();
}

void AfterFuncLink::start(CancelNode* node) noexcept {
  if (node == nullptr) {
    refs_.drop();  // no list will ever hold it
    return;
  }
  node->add_ref();
  node_ = node;
  if (!node->subscribe(this)) {
    // Already done: start f at once; the list's reference goes to the scheduler.
    state_.store(kStarted, std::memory_order_relaxed);
    post(this);
  }
}

bool AfterFuncLink::stop() noexcept {
  std::uint8_t expected = kArmed;
  if (!state_.compare_exchange_strong(expected, kStopped, std::memory_order_acq_rel)) return false;
  // If the canceller has already taken the link, its notify sees kStopped and drops the
  // list's reference itself.
  if (node_ != nullptr && node_->unsubscribe(this)) release();
  return true;
}

void AfterFuncLink::on_done(Link* self, CancelNode& /*source*/) noexcept {
  auto* a = static_cast<AfterFuncLink*>(self);
  std::uint8_t expected = kArmed;
  if (a->state_.compare_exchange_strong(expected, kStarted, std::memory_order_acq_rel)) {
    post(a);
  } else {
    a->release();
  }
}

void AfterFuncLink::on_run(Runnable* self) noexcept {
  auto* a = static_cast<AfterFuncLink*>(self);
  call_reporting([](void* p) { auto* l = static_cast<AfterFuncLink*>(p); l->call_(l); }, a,
                 "after_func callback", a->site_);
  a->release();
}

AfterFunc register_after_func(const Context& ctx, AfterFuncLink* link) noexcept {
  link->start(ctx.node()->done_source());
  return AfterFunc(link);
}

}  // namespace detail

void Context::wait(source_location where) const {
  detail::refuse_blocking_wait("Context::wait", where);
  detail::wait_done(node_->done_source(), detail::kNoDeadline);
}

bool Context::wait_until_ns(std::int64_t deadline_ns, const char* what,
                            const source_location& where) const {
  detail::refuse_blocking_wait(what, where);
  return detail::wait_done(node_->done_source(), deadline_ns);
}

}  // namespace cogo
