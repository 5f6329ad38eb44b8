#include "cogo/errgroup.hpp"

#include <string>

namespace cogo {
namespace detail {

ErrGroupState::ErrGroupState(const Context& parent, source_location where) : site_(where) {
  auto [c, cancel] = with_cancel_cause(parent, where);
  ctx = std::move(c);
  cancel_func = std::move(cancel);
}

bool ErrGroupState::submit(Task<> t, bool only_if_free, const source_location& where) {
  if (unlimited_.load(std::memory_order_relaxed)) {
    wg.add(1);
    cogo::go("errgroup", std::move(t), where);
    return true;
  }
  {
    LockGuard g(mu);
    const bool start = limit_ < 0 || active_ < limit_;
    if (!start && only_if_free) return false;
    wg.add(1);
    if (!start) {
      queued_.emplace_back(std::move(t), where);  // started by finish() when a slot frees
      return true;
    }
    ++active_;
  }
  cogo::go("errgroup", std::move(t), where);
  return true;
}

void ErrGroupState::finish(Error err, const source_location& site) noexcept {
  const bool unlimited = unlimited_.load(std::memory_order_relaxed);
  if (!err && unlimited) {
    wg.done();
    return;
  }
  bool first_failure = false;
  Task<> next;
  source_location next_site;
  {
    LockGuard g(mu);
    if (err && !first) {
      first = err;
      first_failure = true;
    }
    if (!unlimited) --active_;
    if (!queued_.empty() && (limit_ < 0 || active_ < limit_)) {
      next = std::move(queued_.front().first);
      next_site = queued_.front().second;
      queued_.pop_front();
      ++active_;
    }
  }
  // The cancel names the go() call that started the failing task.
  if (first_failure && cancel_func) cancel_func(err, site);
  if (next) {
    try {
      cogo::go("errgroup", std::move(next), next_site);
    } catch (...) {
      // go() only throws for an empty task; `next` is not empty.
    }
  }
  wg.done();
}

void ErrGroupState::set_limit(int n) {
  LockGuard g(mu);
  // Started or queued and not finished, with or without a limit so far.
  const std::int64_t active = wg.count();
  if (active > 0) {
    throw usage_error("cogo: ErrGroup::set_limit called while " + std::to_string(active) +
                      " tasks are active");
  }
  limit_ = n < 0 ? -1 : n;
  unlimited_.store(limit_ < 0, std::memory_order_relaxed);
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
