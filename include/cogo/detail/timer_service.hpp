// The timer service: one min-heap of deadlines per clock, driven by a scheduler's workers
// (steady clock) or by ManualClock::advance. Internal.
//
// An entry is embedded in its owner (a deadline context, a Timer), so arming allocates
// nothing beyond the heap array's amortised growth; the heap holds (when, entry) pairs so
// that sifting touches only the array. Arm and disarm are O(log n) under one lock.
//
// Fire protocol: the service pops a due entry under its lock, then, with no lock held,
// calls the fire function of the entry's kind: fire(entry, gen, when), where gen is the
// entry's arm generation at the time it was popped and when its deadline. An owner that disarms too late (disarm() returns false while a
// fire is in flight) tells the stale fire apart by comparing generations under its own
// lock. Owners keep themselves alive while armed (they take a reference before arm()).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cogo/detail/futex.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/ref.hpp"

namespace cogo::detail {

// What owns an entry, which decides the function that fires it. Eight bytes per entry
// instead of a function pointer keep a pending Timer within a 48-byte block.
enum class TimerKind : std::uint8_t {
  deadline,  // DeadlineNode
  timer,     // TimerState (Timer, Ticker, after_func)
  after,     // AfterCase (after(d) in a select, sleep(d))
};

struct TimerEntry {
  static constexpr std::uint32_t kNotArmed = UINT32_MAX;
  std::uint32_t index = kNotArmed;  // heap slot; guarded by the service lock
  std::uint32_t gen = 0;            // bumped by each arm; written under the owner's and the
                                    // service's locks, read under either
  TimerKind kind;
  std::uint8_t owner_bits = 0;  // the owner's, guarded by the owner's lock

  explicit TimerEntry(TimerKind k) noexcept : kind(k) {}
};

using TimerFireFn = void (*)(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;

// Whoever runs a steady service's due timers: told when a deadline is armed that is
// earlier than the one it planned to wake up for. Called with the service's lock held,
// so that the driver can be replaced (set_driver) with no call to the old one in flight;
// it must not call back into the service.
class TimerDriver {
 public:
  virtual void timer_armed(std::int64_t when) noexcept = 0;

 protected:
  ~TimerDriver() = default;
};
// The fire functions, one per kind; defined by the owners.
void fire_deadline(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;
void fire_timer(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;
void fire_after(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;

class TimerService {
 public:
  // A service on the steady clock, driven by `driver`, or on a manual clock starting at
  // `manual_start_ns`.
  static TimerService* make_steady(TimerDriver* driver);
  static TimerService* make_manual(std::int64_t manual_start_ns);

  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;

  // The process default is never freed and skips reference counting.
  void add_ref() noexcept {
    if (!immortal_) refs_.add();
  }
  void release() noexcept {
    if (!immortal_ && refs_.drop()) delete this;
  }

  bool is_manual() const noexcept { return manual_; }
  // For a service that lives as long as the process: reference counting becomes a no-op.
  void make_immortal() noexcept { immortal_ = true; }
  std::int64_t now() const noexcept {
    return manual_ ? manual_now_.load(std::memory_order_acquire) : monotonic_ns();
  }
  // The deadline for something due `delay_ns` from now (in the past for a negative one),
  // read on the clock that decides when it is due, so that it can never fire before
  // `delay_ns` has passed. Saturates: kEndOfTime (duration.hpp) for the longest delays.
  std::int64_t deadline_after(std::int64_t delay_ns) const noexcept;

  // Arms `e` to fire at `when` (ns on this service's clock). `e` must not be armed.
  void arm(TimerEntry* e, std::int64_t when);
  // Removes `e` if it is armed; false if it is not (never armed, fired, or in flight).
  bool disarm(TimerEntry* e) noexcept;
  // Bumps `e`'s generation without arming it, so that a fire already in flight is seen
  // as stale. Owners change the generation only while holding their own lock, so it may
  // be read under either lock.
  void bump_generation(TimerEntry* e) noexcept;
  // Removes and fires, earliest first, every entry due at `now`. Returns the next
  // deadline, or kNoDeadline.
  std::int64_t run_due(std::int64_t now);
  // Manual clocks: moves time to `to`, firing due entries in deadline order with the
  // clock set to each one's deadline as it fires.
  void advance_manual(std::int64_t to);

  std::size_t armed() const noexcept;
  // Calls f(entry, when) for every armed entry, under the service's lock: f must only
  // read the entries' immutable fields.
  template <class F>
  void for_each_armed(F&& f) const {
    LockGuard g(mu_);
    for (const Slot& s : heap_) f(s.entry, s.when);
  }
  // Timers armed since the service was made.
  std::uint64_t arms() const noexcept { return arms_.load(std::memory_order_relaxed); }
  // The earliest deadline armed, or kNoDeadline; may be stale by the time it is read.
  std::int64_t earliest() const noexcept { return earliest_.load(std::memory_order_acquire); }
  // Forgets the wake-up the driver planned (it is about to look at the heap again).
  void set_planned_wake(std::int64_t when) noexcept;
  // The driver is about to sleep until the earliest deadline: returns it (kNoDeadline
  // for none) and records it as planned, in one step, so that an earlier arm afterwards
  // is reported to the driver.
  std::int64_t plan_wake() noexcept;
  // Hands the service to another driver (a scheduler adopting the services of one that
  // is gone); the next arm is reported to it.
  void set_driver(TimerDriver* driver) noexcept;
  // True if the caller holds the only reference: no timer, deadline or scope uses it.
  bool sole_reference() const noexcept { return refs_.is_sole(); }
  // In the list of services a scheduler adopted, under that scheduler's lock.
  struct AdoptedLink : ListNode {
    TimerService* svc = nullptr;
  } adopted_link;
  static TimerService* from_adopted_link(ListNode* n) noexcept {
    return static_cast<AdoptedLink*>(n)->svc;
  }

  // The service timers and deadlines created on this thread use: the thread's manual
  // clock while a ManualClock::Scope is active, else the current scheduler's (the
  // default scheduler's outside any).
  static TimerService& current() noexcept;
  static TimerService* set_thread_override(TimerService* s) noexcept;

 private:
  TimerService(bool manual, std::int64_t start_ns, TimerDriver* driver);
  ~TimerService();

  struct Slot {
    std::int64_t when;
    TimerEntry* entry;
  };

  void place(std::uint32_t i, Slot s) noexcept COGO_REQUIRES(mu_);
  void sift_up(std::uint32_t i, Slot s) noexcept COGO_REQUIRES(mu_);
  void sift_down(std::uint32_t i, Slot s) noexcept COGO_REQUIRES(mu_);
  void remove_at(std::uint32_t i) noexcept COGO_REQUIRES(mu_);
  void update_earliest() noexcept COGO_REQUIRES(mu_);
  void move_manual_to(std::int64_t t) noexcept;

  RefCount refs_{1};
  const bool manual_;
  bool immortal_ = false;
  TimerDriver* driver_ COGO_GUARDED_BY(mu_);
  std::atomic<std::int64_t> manual_now_{0};
  mutable Lock mu_;
  std::vector<Slot> heap_ COGO_GUARDED_BY(mu_);
  std::int64_t planned_wake_ COGO_GUARDED_BY(mu_) = kNoDeadline;
  std::atomic<std::int64_t> earliest_{kNoDeadline};
  std::atomic<std::size_t> armed_{0};
  std::atomic<std::uint64_t> arms_{0};
};

}  // namespace cogo::detail
