#include "cogo/timer.hpp"

#include <atomic>
#include <cstdio>
#include <thread>

#include "cogo/select.hpp"

#include <string>

#include "cogo/detail/duration.hpp"

namespace cogo {
namespace detail {

// ---------------------------------------------------------------- HeadList

void HeadList::push_back(ListNode* n) noexcept {
  if (head_ == nullptr) {
    n->prev = n->next = n;
    head_ = n;
    return;
  }
  n->next = head_;
  n->prev = head_->prev;
  head_->prev->next = n;
  head_->prev = n;
}

void HeadList::remove(ListNode* n) noexcept {
  if (n->next == n) {
    head_ = nullptr;
  } else {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    if (head_ == n) head_ = n->next;
  }
  n->prev = n->next = nullptr;
}

ListNode* HeadList::pop_front() noexcept {
  ListNode* n = head_;
  if (n != nullptr) remove(n);
  return n;
}

// ---------------------------------------------------------------- TimerState

TimerState::TimerState(TimerService& svc, Flavor flavor, source_location site) noexcept
    : TimerEntry(TimerKind::timer), svc_(&svc), site_(site) {
  owner_bits = flavor;
  svc_->add_ref();
}

TimerState::~TimerState() { svc_->release(); }

TimerState* TimerState::make_one_shot(TimerService& svc, source_location site) {
  return new TimerState(svc, kOneShot, site);
}

TimerState* TimerState::make_ticker(TimerService& svc, std::int64_t period_ns,
                                    source_location site) {
  return new TickerState(svc, period_ns, site);
}

void TimerState::release() noexcept {
  if (!refs_.drop()) return;
  switch (flavor()) {
    case kOneShot:
      delete this;
      return;
    case kTicker:
      delete static_cast<TickerState*>(this);
      return;
    case kFunc: {
      auto* f = static_cast<FuncTimerBase*>(this);
      f->destroy_(f);
      return;
    }
  }
}

void TimerState::start(std::int64_t delay_ns) {
  if (delay_ns <= 0) {
    reset(delay_ns);  // due at once: delivered through the locked path
    return;
  }
  // Nobody else can reach a new timer until the service holds it: no lock and no atomic
  // add are needed to set it up, and nothing touches it after arm() but under locks.
  const std::int64_t when = svc_->deadline_after(delay_ns);
  set_active(true);
  if (when == kEndOfTime) return;  // never due: pending for ever, with nothing armed
  refs_.add_unshared();  // the armed timer's reference
  try {
    svc_->arm(this, when);
  } catch (...) {
    refs_.drop();
    set_active(false);
    throw;
  }
}

bool TimerState::reset(std::int64_t delay_ns, std::int64_t period_ns) {
  bool was_active;
  TimerReceiver* taker = nullptr;
  bool drop_ref = false;
  {
    LockGuard g(mu_);
    was_active = active();
    const bool held = was_active && svc_->disarm(this);  // if armed, its reference carries over
    pending_ = kNoValue;
    if (flavor() == kTicker && period_ns > 0) static_cast<TickerState*>(this)->period_ = period_ns;
    if (!held) refs_.add();
    set_active(true);
    if (delay_ns <= 0) {
      const std::int64_t now = svc_->now();
      // Already due: deliver now rather than through the timer driver. A fire of the
      // earlier setting still in flight must see itself as stale.
      svc_->bump_generation(this);
      bool keeps_ref = false;
      taker = expire_locked(now, now, keeps_ref);
      drop_ref = !keeps_ref;
    } else if (const std::int64_t when = svc_->deadline_after(delay_ns); when == kEndOfTime) {
      // Never due: active with nothing armed, so the armed timer's reference goes, and a
      // fire of the earlier setting still in flight must see itself as stale.
      svc_->bump_generation(this);
      drop_ref = true;
    } else {
      try {
        svc_->arm(this, when);
      } catch (...) {
        refs_.drop();
        set_active(false);
        throw;
      }
    }
  }
  if (taker != nullptr) taker->wake(taker);
  if (drop_ref) release();  // never the last: the caller holds a reference
  return was_active;
}

bool TimerState::stop() noexcept {
  bool was_active;
  bool held;
  {
    LockGuard g(mu_);
    was_active = active();
    set_active(false);
    pending_ = kNoValue;
    held = was_active && svc_->disarm(this);
  }
  if (held) release();  // the armed timer's reference; the caller holds another
  return was_active;
}

bool TimerState::try_receive_locked(std::int64_t& value) noexcept {
  if (pending_ == kNoValue) return false;
  value = pending_;
  pending_ = kNoValue;
  if (flavor() == kOneShot) set_active(false);
  return true;
}

bool TimerState::try_receive(std::int64_t& value) noexcept {
  LockGuard g(mu_);
  return try_receive_locked(value);
}

bool TimerState::add_receiver(TimerReceiver* r) noexcept {
  LockGuard g(mu_);
  if (try_receive_locked(r->value)) return false;
  receivers_.push_back(r);
  return true;
}

bool TimerState::remove_receiver(TimerReceiver* r) noexcept {
  LockGuard g(mu_);
  if (!r->linked()) return false;
  receivers_.remove(r);
  return true;
}

namespace {
struct ThreadReceiver : TimerReceiver {
  std::atomic<std::uint32_t> state{0};
  ThreadReceiver() noexcept {
    claim = [](TimerReceiver*) noexcept { return true; };
    wake = [](TimerReceiver* self) noexcept {
      auto* t = static_cast<ThreadReceiver*>(self);
      t->state.store(1, std::memory_order_release);
      futex_wake(t->state, 1);
    };
  }
};
}  // namespace

bool TimerState::receive(std::int64_t& value, std::int64_t deadline_ns) noexcept {
  ThreadReceiver r;
  if (!add_receiver(&r)) {
    value = r.value;
    return true;
  }
  while (r.state.load(std::memory_order_acquire) == 0) {
    if (futex_wait(r.state, 0, deadline_ns)) continue;
    if (remove_receiver(&r)) return false;
    // A fire took the receiver; its wake is on the way.
    while (r.state.load(std::memory_order_acquire) == 0) futex_wait(r.state, 0);
    break;
  }
  value = r.value;
  return true;
}

FuncTimerBase::FuncTimerBase(TimerService& svc, CallFn call, DestroyFn destroy,
                             source_location site) noexcept
    : TimerState(svc, kFunc, site), call_(call), destroy_(destroy) {
  Runnable::run = &FuncTimerBase::run_queued;
}

void FuncTimerBase::run_queued(Runnable* self) noexcept {
  auto* t = static_cast<FuncTimerBase*>(self);
  for (;;) {
    call_reporting([](void* p) { auto* f = static_cast<FuncTimerBase*>(p); f->call_(f); }, t,
                   "after_func timer callback", t->site());
    bool more;
    {
      LockGuard g(t->mu_);
      more = --t->queued_ > 0;
    }
    if (!more) break;
  }
  t->release();  // the queued run's reference
}

// The analysis cannot see that the downcast `f` (in expire_locked, `t`) is `this`, whose
// lock the caller holds, as the declarations require.
COGO_NO_THREAD_SAFETY_ANALYSIS bool TimerState::start_func() noexcept {
  auto* f = static_cast<FuncTimerBase*>(this);
  if (f->queued_++ > 0) return false;  // a run is queued or running; it will loop
  post(f);
  return true;
}

COGO_NO_THREAD_SAFETY_ANALYSIS TimerReceiver* TimerState::expire_locked(std::int64_t when,
                                                                        std::int64_t now,
                                                                        bool& keeps_ref) noexcept {
  keeps_ref = false;
  switch (flavor()) {
    case kFunc:
      set_active(false);
      keeps_ref = start_func();
      return nullptr;
    case kTicker: {
      auto* t = static_cast<TickerState*>(this);
      // The next tick stays on the original grid, skipping ticks already missed. In 128
      // bits: near the end of time the grid runs past the int64 range.
      WideInt next = static_cast<WideInt>(when) + t->period_;
      if (next <= now) next += ((now - next) / t->period_ + 1) * t->period_;
      if (next >= kEndOfTime) break;  // no tick comes after the end of time: stay unarmed
      try {
        svc_->arm(this, static_cast<std::int64_t>(next));
        keeps_ref = true;
      } catch (...) {
        set_active(false);  // out of memory: the ticker stops
      }
      break;
    }
    case kOneShot:
      break;
  }
  while (auto* r = static_cast<TimerReceiver*>(receivers_.pop_front())) {
    if (!r->claim(r)) continue;  // a select that another case won: try the next receiver
    r->value = now;
    if (flavor() == kOneShot) set_active(false);
    return r;
  }
  if (pending_ == kNoValue) pending_ = now;  // a ticker keeps its oldest undelivered tick
  return nullptr;
}

void fire_timer(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept {
  auto* s = static_cast<TimerState*>(e);
  TimerReceiver* taker = nullptr;
  bool keeps_ref = false;
  {
    LockGuard g(s->mu_);
    // A stop or reset since this entry was popped makes the fire stale.
    if (s->active() && s->gen == gen) taker = s->expire_locked(when, s->svc_->now(), keeps_ref);
  }
  if (taker != nullptr) taker->wake(taker);
  if (!keeps_ref) s->release();
}

// ---------------------------------------------------------------- waits

void fire_after(TimerEntry* e, std::uint32_t /*gen*/, std::int64_t when) noexcept {
  auto* c = static_cast<AfterCase*>(e);
  c->fired_at_ = when;
  WaitState* ws = c->ws_;
  const bool won = ws->try_claim(c->index_);
  // Last touch of the case: once woken, the waiting frame may be resumed and freed.
  c->fired_.store(true, std::memory_order_release);
  if (won) ws->wake();
}

void report_unarmed_after(const source_location& site) noexcept {
  static std::atomic<bool> reported{false};
  if (reported.exchange(true, std::memory_order_relaxed)) return;
  std::fprintf(stderr,
               "cogo: out of memory arming the timeout at %s:%u; it fires at once "
               "(reported once)\n",
               site.file_name(), static_cast<unsigned>(site.line()));
}

void spin_pause() noexcept {
  for (int i = 0; i < 16; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::this_thread::yield();
}

Task<Error> sleep_ctx(Context ctx, std::int64_t ns, source_location where) {
  auto r = co_await select(ctx.done(where), AfterCase(ns, WaitReason::sleep, where));
  if (r.index() == 0) co_return std::get<0>(r);
  co_return Error();
}

// ---------------------------------------------------------------- handles

TimerState& TimerHandle::checked(const char* what) const {
  if (s_ == nullptr) {
    throw usage_error(std::string("cogo: ") + what + " called on an empty Timer or Ticker");
  }
  return *s_;
}

std::optional<TimerHandle::clock::time_point> TimerHandle::try_wait() const {
  std::int64_t v = 0;
  if (!checked("try_wait").try_receive(v)) return std::nullopt;
  return clock::time_point(std::chrono::nanoseconds(v));
}

std::optional<TimerHandle::clock::time_point> TimerHandle::receive_until(
    std::int64_t deadline_ns, const char* what, const source_location& where) const {
  refuse_blocking_wait(what, where);
  std::int64_t v = 0;
  if (!checked(what).receive(v, deadline_ns)) return std::nullopt;
  return clock::time_point(std::chrono::nanoseconds(v));
}

}  // namespace detail

Timer::Timer(std::int64_t ns, source_location where) {
  detail::TimerService& svc = detail::TimerService::current();
  s_ = detail::TimerState::make_one_shot(svc, where);
  s_->start(ns);
}

bool Timer::stop() { return checked("Timer::stop").stop(); }

bool Timer::reset_ns(std::int64_t ns) {
  return checked("Timer::reset").reset(ns);
}

namespace {
void check_period(std::int64_t ns, const char* what) {
  if (ns <= 0) throw std::invalid_argument(std::string("cogo: ") + what + ": non-positive period");
}
}  // namespace

Ticker::Ticker(std::int64_t ns, source_location where) {
  check_period(ns, "Ticker");
  detail::TimerService& svc = detail::TimerService::current();
  s_ = detail::TimerState::make_ticker(svc, ns, where);
  s_->reset(ns, ns);
}

void Ticker::stop() { checked("Ticker::stop").stop(); }

void Ticker::reset_ns(std::int64_t ns) {
  detail::TimerState& s = checked("Ticker::reset");
  check_period(ns, "Ticker::reset");
  s.reset(ns, ns);
}

}  // namespace cogo
