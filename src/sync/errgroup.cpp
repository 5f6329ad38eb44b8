#include "cogo/errgroup.hpp"

#include "cogo/detail/done_case.hpp"  // spin_pause

#include <algorithm>
#include <string>

namespace cogo {
namespace detail {

ErrGroupState::ErrGroupState(const Context& parent, source_location where) : site_(where) {
  auto [c, cancel] = with_cancel_cause(parent, where);
  ctx = std::move(c);
  cancel_func = std::move(cancel);
}

int ErrGroupState::mode() const noexcept {
  for (;;) {
    const int m = mode_.load(std::memory_order_seq_cst);
    if (m != kChanging) return m;
    spin_pause();  // a set_limit() is deciding, under its lock: a few instructions
  }
}

Ref<ErrGroupGate> ErrGroupState::make_gate() {
  if (mode() == kUnlimited) return {};
  return Ref<ErrGroupGate>::adopt(new ErrGroupGate);
}

bool ErrGroupState::admit(const Ref<ErrGroupGate>& gate, bool only_if_free) {
  if (!gate) return true;  // no limit
  LockGuard g(mu);
  if (active_ < limit_) {
    ++active_;
    gate->open.set();  // the task will pass straight through
    return true;
  }
  if (only_if_free) return false;
  if (limit_ == 0) {
    throw usage_error("cogo: ErrGroup::go with a limit of 0: the task could never start "
                      "(try_go refuses it instead)");
  }
  queued_.push_back(gate);  // opened by finish() when a slot frees
  return true;
}

void ErrGroupState::start(Task<> t, const Ref<ErrGroupGate>& gate, std::string name,
                          const source_location& where, Pending& pending) {
  try {
    cogo::go(std::move(name), std::move(t), where);
  } catch (...) {
    // The task never runs: give back its place in the queue, or its slot.
    if (gate) {
      Ref<ErrGroupGate> next;
      {
        LockGuard g(mu);
        auto it = std::find(queued_.begin(), queued_.end(), gate);
        if (it != queued_.end()) {
          queued_.erase(it);
        } else {
          next = pass_slot_locked();
        }
      }
      if (next) next->open.set();
    }
    throw;  // `pending` uncounts it
  }
  pending.commit();
}

Ref<ErrGroupGate> ErrGroupState::pass_slot_locked() {
  if (queued_.empty()) {
    --active_;
    return {};
  }
  Ref<ErrGroupGate> next = std::move(queued_.front());
  queued_.pop_front();
  return next;
}

void ErrGroupState::finish(Error err, const source_location& site) noexcept {
  const bool unlimited = mode() == kUnlimited;
  if (!err && unlimited) {
    wg.done();
    return;
  }
  bool first_failure = false;
  Ref<ErrGroupGate> next;
  {
    LockGuard g(mu);
    if (err && !first) {
      first = err;
      first_failure = true;
    }
    if (!unlimited) next = pass_slot_locked();
  }
  // The cancel names the go() call that started the failing task.
  if (first_failure && cancel_func) cancel_func(err, site);
  if (next) next->open.set();  // the slot passes to the longest-queued task
  wg.done();
}

void ErrGroupState::set_limit(int n) {
  LockGuard g(mu);
  const int was = mode_.load(std::memory_order_relaxed);  // only set_limit changes it, locked
  mode_.store(kChanging, std::memory_order_seq_cst);
  // Started or queued and not finished, with or without a limit so far.
  const std::int64_t active = wg.count();
  if (active > 0) {
    mode_.store(was, std::memory_order_seq_cst);
    throw usage_error("cogo: ErrGroup::set_limit called while " + std::to_string(active) +
                      " tasks are active");
  }
  limit_ = n < 0 ? -1 : n;
  mode_.store(limit_ < 0 ? kUnlimited : kLimited, std::memory_order_seq_cst);
}

void ErrGroupState::cancel_on_release() noexcept {
  if (cancel_func) cancel_func(Error(), site_);
}

Task<Error> errgroup_wait(Ref<ErrGroupState> st, source_location where) {
  co_await st->wg.wait(where);
  Error first;
  {
    LockGuard g(st->mu);
    first = st->first;
  }
  if (st->cancel_func) st->cancel_func(first, where);
  co_return first;
}

}  // namespace detail

ErrGroup::ErrGroup() : st_(new detail::ErrGroupState()) {}

ErrGroup::ErrGroup(const Context& parent, source_location where)
    : st_(new detail::ErrGroupState(parent, where)) {}

ErrGroup::~ErrGroup() {
  st_->cancel_on_release();
  st_->release();
}

}  // namespace cogo
