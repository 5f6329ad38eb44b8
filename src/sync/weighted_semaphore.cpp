#include "cogo/sync/weighted_semaphore.hpp"

#include <string>
#include <system_error>

#include "cogo/select.hpp"

namespace cogo {

namespace {
void check_weight(std::int64_t n, const char* what) {
  if (n < 0) {
    throw usage_error(std::string("cogo: WeightedSemaphore::") + what + " with a negative weight (" +
                      std::to_string(n) + ")");
  }
}
}  // namespace

WeightedSemaphore::WeightedSemaphore(std::int64_t size) : size_(size) {
  if (size < 0) throw usage_error("cogo: WeightedSemaphore of negative size " + std::to_string(size));
}

Task<Error> WeightedSemaphore::acquire(const Context& ctx, std::int64_t n, source_location where) {
  check_weight(n, "acquire");
  return acquire_body(this, ctx, n, where);
}

WeightedSemaphore::AcquireCase WeightedSemaphore::acquire_case(std::int64_t n, source_location where) {
  check_weight(n, "acquire_case");
  if (n > size_) {
    throw usage_error("cogo: WeightedSemaphore::acquire_case(" + std::to_string(n) +
                      ") can never be satisfied: the size is " + std::to_string(size_));
  }
  return AcquireCase(this, n, where);
}

Task<Error> WeightedSemaphore::acquire_body(WeightedSemaphore* s, Context ctx, std::int64_t n,
                                            source_location where) {
  if (s->try_acquire(n)) co_return Error();
  if (n > s->size_) {
    // It could never succeed; waiting would only hold up the caller.
    co_return Error(std::make_error_code(std::errc::invalid_argument),
                    "cogo: WeightedSemaphore::acquire(n=" + std::to_string(n) +
                        ") exceeds the size " + std::to_string(s->size_),
                    where);
  }
  auto done = ctx.done(where);
  if (done.lock() == nullptr) {
    // A context that can never end: a plain wait, which dumps show as semacquire.
    co_await detail::SingleAwaiter<AcquireCase>(AcquireCase(s, n, where));
    co_return Error();
  }
  auto r = co_await cogo::select(AcquireCase(s, n, where), std::move(done));
  if (r.index() == 0) co_return Error();
  co_return std::get<1>(r);
}

bool WeightedSemaphore::try_acquire(std::int64_t n) {
  check_weight(n, "try_acquire");
  detail::LockGuard g(mu_);
  return try_take_locked(n);
}

void WeightedSemaphore::release(std::int64_t n) {
  check_weight(n, "release");
  detail::List woken;
  {
    detail::LockGuard g(mu_);
    if (n > cur_) {
      throw usage_error("cogo: WeightedSemaphore::release(" + std::to_string(n) +
                        ") of more than is held (" + std::to_string(cur_) + ")");
    }
    cur_ -= n;
    notify_locked(woken);
  }
  detail::wake_all(woken);
}

std::int64_t WeightedSemaphore::held() const noexcept {
  detail::LockGuard g(mu_);
  return cur_;
}

void WeightedSemaphore::notify_locked(detail::List& woken) noexcept {
  while (detail::ListNode* f = waiters_.front()) {
    auto* w = static_cast<Waiter*>(f);
    if (size_ - cur_ < w->n) {
      // The head does not fit, and blocks the rest (so that it is not starved), unless
      // another case of its select has already won: it is about to leave.
      if (w->ws->winner.load(std::memory_order_acquire) == detail::WaitState::kOpen) break;
      detail::List::remove(w);
      continue;
    }
    detail::List::remove(w);
    if (w->ws->try_claim(w->index)) {
      cur_ += w->n;  // the units go straight to the waiter
      woken.push_back(w);
    }
  }
}

}  // namespace cogo
