// Deadline contexts: the node that cancels itself when its timer fires, and the
// with_deadline and with_timeout factories.
#include "cogo/detail/deadline_node.hpp"

#include <chrono>
#include <string>

#include "cogo/context.hpp"
#include "cogo/detail/duration.hpp"
#include "cogo/detail/error_access.hpp"
#include "cogo/detail/format.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo {
namespace detail {

// ---------------------------------------------------------------- DeadlineNode

DeadlineNode::DeadlineNode(Node* parent, std::int64_t deadline_ns, std::int64_t timeout_ns,
                           Error cause, source_location site, TimerService& svc)
    : CancelNode(NodeKind::deadline, parent, site, 2),
      TimerEntry(TimerKind::deadline),
      svc_(&svc),
      timeout_ns_(timeout_ns),
      deadline_cause_(std::move(cause)) {
  deadline_ns_ = deadline_ns;
  has_deadline_ = true;
  svc_->add_ref();
}

DeadlineNode::~DeadlineNode() { svc_->release(); }

void DeadlineNode::arm() {
  // The end of time never comes: a deadline there is reported, but needs no timer.
  if (deadline_ns_ == kEndOfTime) return;
  LockGuard g(mu_);
  if (done_flag_.load(std::memory_order_relaxed)) return;
  refs_.add();  // the armed timer holds a reference
  armed_ = true;
  try {
    svc_->arm(this, deadline_ns_);
  } catch (...) {
    armed_ = false;
    refs_.drop();
    throw;
  }
}

void DeadlineNode::disarm_locked() noexcept {
  if (!armed_) return;
  armed_ = false;
  if (svc_->disarm(this)) timer_ref_to_drop_ = true;
  // Otherwise the timer has fired and on_fire is in flight; it drops its own reference.
}

void DeadlineNode::expire() noexcept {
  const std::error_code code = make_error_code(errc::deadline_exceeded);
  Error err(code, source_location());
  Error why = err;
  try {
    std::string msg;
    msg.reserve(96);
    msg += "deadline set at ";
    append_site(msg, site_);
    msg += ", ";
    append_go_duration(msg, timeout_ns_);
    if (deadline_cause_) {
      why = ErrorAccess::with_message(code, std::string(msg), deadline_cause_, source_location());
    }
    err = ErrorAccess::with_message(code, std::move(msg), Error(), source_location());
    if (!deadline_cause_) why = err;
  } catch (...) {
    // Out of memory: expire anyway, with the bare code.
  }
  cancel(err, why);
}

void fire_deadline(TimerEntry* e, std::uint32_t /*gen*/, std::int64_t /*when*/) noexcept {
  auto* d = static_cast<DeadlineNode*>(e);
  if (!d->is_done()) d->expire();
  d->release();  // the armed timer's reference
}

void DeadlineNode::describe_self(std::string& out) const {
  out += ".WithDeadline(";
  append_wall_time(out, Context::clock::time_point(std::chrono::nanoseconds(deadline_ns_)));
  out += " [";
  append_go_duration(out, saturating_sub(deadline_ns_, svc_->now()));
  out += "])";
}

// ---------------------------------------------------------------- factories

// `due`: the deadline has already passed (known by the caller without another clock read).
Cancelable<CancelFunc> with_deadline_on(const Context& parent, std::int64_t deadline_ns,
                                        std::int64_t timeout_ns, bool due, Error cause,
                                        source_location where, TimerService& svc) {
  Node* p = parent.node();
  if (const CancelNode* ds = p->done_source(); ds != nullptr && ds->deadline_ns() < deadline_ns) {
    return with_cancel(parent, where);  // the parent's deadline comes first
  }
  p->add_ref();
  auto* d = new DeadlineNode(p, deadline_ns, timeout_ns, std::move(cause), where, svc);
  Cancelable<CancelFunc> r{Context::adopt(d), CancelFunc(d)};
  d->attach();
  if (!d->is_done()) {
    if (due) {
      d->expire();
    } else {
      d->arm();
    }
  }
  return r;
}

Cancelable<CancelFunc> with_timeout_ns(const Context& parent, std::int64_t ns, Error cause,
                                       source_location where) {
  TimerService& svc = TimerService::current();
  // As in Go, the deadline is now + timeout even when that is in the past.
  return with_deadline_on(parent, svc.deadline_after(ns), ns, ns <= 0, std::move(cause), where, svc);
}

}  // namespace detail

Cancelable<CancelFunc> with_deadline(const Context& parent, Context::clock::time_point deadline,
                                     source_location where) {
  return with_deadline(parent, deadline, Error(), where);
}

Cancelable<CancelFunc> with_deadline(const Context& parent, Context::clock::time_point deadline,
                                     Error cause, source_location where) {
  detail::TimerService& svc = detail::TimerService::current();
  const std::int64_t ns = detail::saturating_ns(deadline.time_since_epoch());
  const std::int64_t now = svc.now();
  return detail::with_deadline_on(parent, ns, detail::saturating_sub(ns, now), ns <= now,
                                  std::move(cause), where, svc);
}

}  // namespace cogo
