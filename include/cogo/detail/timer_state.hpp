// The shared state behind Timer, Ticker and after_func(d, f). Internal.
//
// 48 bytes for a one-shot timer: an 8-byte heap entry, the reference count, the lock, the
// undelivered value, the head of the receiver list, the service and the creation site.
// Flags live in the entry's owner_bits under the state's lock. A timer due at the end of
// time (kEndOfTime) is active but never armed, and holds no armed reference.
#pragma once

#include <atomic>
#include <cstdint>

#include "cogo/detail/config.hpp"
#include "cogo/detail/executor.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/pool.hpp"
#include "cogo/detail/ref.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo::detail {

// A party waiting to receive a timer's value.
struct TimerReceiver : ListNode {
  // Under the timer's lock, after the receiver left the list: whether it takes the value.
  // A select decided by another case refuses, and the value goes to the next receiver.
  bool (*claim)(TimerReceiver* self) noexcept = nullptr;
  // With no lock held, for a receiver that took the value (now in `value`).
  void (*wake)(TimerReceiver* self) noexcept = nullptr;
  std::int64_t value = 0;
};

// A list identified by a pointer to its first node; circular. Guarded by its owner.
class HeadList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push_back(ListNode* n) noexcept;
  void remove(ListNode* n) noexcept;
  ListNode* pop_front() noexcept;

 private:
  ListNode* head_ = nullptr;
};

class TimerState : public TimerEntry, public Pooled {
 public:
  enum Flavor : std::uint8_t { kOneShot = 0, kTicker = 1, kFunc = 2 };
  static constexpr std::int64_t kNoValue = INT64_MIN;

  static TimerState* make_one_shot(TimerService& svc, source_location site);
  static TimerState* make_ticker(TimerService& svc, std::int64_t period_ns, source_location site);

  // Where the Timer, Ticker or after_func was made; for leak reports.
  const source_location& site() const noexcept { return site_; }

  void add_ref() noexcept { refs_.add(); }
  bool sole_reference() const noexcept { return refs_.is_sole(); }
  void release() noexcept;

  TimerService& service() const noexcept { return *svc_; }

  // Arms to fire `delay_ns` from now (at once for delay_ns <= 0). Returns whether the
  // timer was active (armed, or fired with the value not yet received) before; an
  // undelivered value is discarded. For tickers, `period_ns` replaces the period.
  bool reset(std::int64_t delay_ns, std::int64_t period_ns = 0);
  // The first arming of a timer no other thread can reach yet (Timer's constructor).
  void start(std::int64_t delay_ns);
  // Disarms and discards an undelivered value. Returns whether the timer was active.
  bool stop() noexcept;

  // Takes the undelivered value, if any.
  bool try_receive(std::int64_t& value) noexcept;
  // Lists `r` to receive the next value unless one is waiting: then returns false and
  // sets r->value.
  bool add_receiver(TimerReceiver* r) noexcept;
  // Unlists `r`; false if a fire has taken it (its wake is running or about to run).
  bool remove_receiver(TimerReceiver* r) noexcept;

  // For a select, which holds this lock while it polls and registers.
  Lock& wait_lock() noexcept COGO_RETURN_CAPABILITY(mu_) { return mu_; }
  bool try_receive_locked(std::int64_t& value) noexcept COGO_REQUIRES(mu_);
  void add_receiver_locked(TimerReceiver* r) noexcept COGO_REQUIRES(mu_) { receivers_.push_back(r); }
  void remove_receiver_locked(TimerReceiver* r) noexcept COGO_REQUIRES(mu_) { receivers_.remove(r); }
  // Blocks the calling thread for a value until the CLOCK_MONOTONIC deadline.
  bool receive(std::int64_t& value, std::int64_t deadline_ns) noexcept;

 protected:
  friend void fire_timer(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;
  TimerState(TimerService& svc, Flavor flavor, source_location site) noexcept;
  ~TimerState();

  Flavor flavor() const noexcept { return static_cast<Flavor>(owner_bits & 3); }
  // Armed, or fired with its value not yet received. An inactive timer is never in the
  // service's heap, which spares a service lock on reset() and stop().
  bool active() const noexcept { return (owner_bits & 4) != 0; }
  void set_active(bool a) noexcept {
    owner_bits = static_cast<std::uint8_t>(a ? (owner_bits | 4) : (owner_bits & ~4));
  }
  // Called for kFunc on each fire: queues one run of the callback. Returns true if the
  // caller's reference went with it.
  bool start_func() noexcept COGO_REQUIRES(mu_);
  // The timer is due at `when` (now is `now`): deliver its value or start its callback,
  // re-arm a ticker. Returns the receiver to wake once unlocked, if any. Sets
  // `keeps_ref` when a re-arm or a callback run now holds the reference the fire held.
  TimerReceiver* expire_locked(std::int64_t when, std::int64_t now, bool& keeps_ref) noexcept
      COGO_REQUIRES(mu_);

  RefCount refs_{1};
  Lock mu_;
  std::int64_t pending_ COGO_GUARDED_BY(mu_) = kNoValue;
  HeadList receivers_ COGO_GUARDED_BY(mu_);
  TimerService* svc_;  // a strong reference
  source_location site_;
};

class TickerState final : public TimerState {
 public:
  TickerState(TimerService& svc, std::int64_t period, source_location site) noexcept
      : TimerState(svc, kTicker, site), period_(period) {}
  std::int64_t period_ COGO_GUARDED_BY(mu_);
};

// after_func(d, f): the state also holds f and the runnable that calls it. Each fire
// queues one run; runs of one timer's f happen one after another, never at once, and a
// fire never allocates.
class FuncTimerBase : public TimerState, public Runnable {
 public:
  using CallFn = void (*)(FuncTimerBase*);
  using DestroyFn = void (*)(FuncTimerBase*) noexcept;
  FuncTimerBase(TimerService& svc, CallFn call, DestroyFn destroy, source_location site) noexcept;

  CallFn call_;
  DestroyFn destroy_;
  std::uint32_t queued_ COGO_GUARDED_BY(mu_) = 0;  // fires whose run has not finished

 private:
  static void run_queued(Runnable* self) noexcept;
};

template <class F>
class FuncTimer final : public FuncTimerBase {
 public:
  template <class G>
  FuncTimer(TimerService& svc, G&& g, source_location site)
      : FuncTimerBase(svc, &call, &destroy, site), f_(std::forward<G>(g)) {}

 private:
  static void call(FuncTimerBase* self) { static_cast<FuncTimer*>(self)->f_(); }
  static void destroy(FuncTimerBase* self) noexcept { delete static_cast<FuncTimer*>(self); }
  F f_;
};

}  // namespace cogo::detail
