// The idle path of a scheduler's workers: how a worker with nothing to run goes to sleep,
// and how it is woken when work appears, when a timer is due, or when the scheduler
// stops. Internal.
//
// Two parts:
//   - Poller: one per worker, the thing it sleeps in. WorkerPoller sleeps on a futex, or
//     in the worker's IoDriver once I/O is attached (cogo::asio: the worker's own
//     io_context), so that a sleeping worker also wakes for I/O completions.
//   - IdleSet: one per scheduler, the set of idle workers, the count of spinning ones,
//     the stop flag and the timer keeper (the one idle worker that sleeps only until the
//     earliest timer; the others sleep until woken).
//
// A worker with nothing to run does, in this order (SchedulerImpl::worker_main):
//   1. look for work in every source (its next-to-run slot, its queue, the global queue,
//      due timers, the other workers' queues and stuck next-to-run slots);
//   2. spin a little, counted as spinning (step 1 again);
//   3. announce(): join the idle set and stop spinning, in one atomic step;
//   4. check stopping(); look in every source again (the recheck); if it finds work,
//      retract() and run it;
//   5. try_keep() the timers, and sleep in its Poller until the earliest timer or the
//      next monitor check (keeper) or until interrupted (others);
//   6. consume the interrupt, retract(), and go to 1. A keeper that finds work to run
//      releases the role first and hands it over (see try_keep).
// A party that makes work visible (a push to any queue or next-to-run slot, a timer
// armed earlier than planned) then calls notify_work() (or wakes the keeper).
//
// Invariants (checked by the spin model tests/models/idle.pml and by the stress tests in
// tests/stress/idle_stress_test.cpp):
//   I1. No lost wake-up: work made visible before notify_work() is seen by a worker that
//       is awake or spinning, or notify_work() wakes one. announce() read-modify-writes
//       the one word holding the idle and spinning counts (sequentially consistent), and
//       notify_work() issues a sequentially consistent fence before reading it, so one
//       of them comes second in the total order and sees the other: either the notifier
//       sees the worker idle (and wakes one, or sees a spinner that must recheck), or
//       the worker's recheck (step 4, sequentially consistent loads of the queues) sees
//       the work.
//   I2. The last spinner to stop spinning without finding work has announced first (the
//       same read-modify-write), so a notifier that saw it spinning is covered by its
//       recheck; a spinner that finds work and was the last one, and a worker whose
//       recheck finds work, call notify_work(), so further work is not left to a worker
//       that is about to run something long. So does a worker that takes a batch (from
//       the global queue, or stolen) and keeps the rest in its queue.
//   I3. Stop is seen by every sleeper: stop() sets the flag, then interrupts every
//       worker in the idle set under the set's lock; a worker joins the set under that
//       lock before reading the flag, so it either is interrupted or reads it set.
//   I4. An interrupt is never lost: Poller::interrupt() makes the current or the next
//       wait() return; the worker consumes it only after waking, before its recheck.
//   I5. A due timer is never stranded: the keeper sleeps no later than the earliest
//       deadline armed before it planned (TimerService::plan_wake, under the service's
//       lock); an earlier arm afterwards interrupts the keeper, or wakes an idle worker
//       when there is no keeper; a keeper that leaves to run work with timers armed
//       hands the role to an idle worker; with no idle worker, the busy ones look at the
//       timers every few dozen tasks. The same holds for the watch on next-to-run slots
//       (the monitor, scheduler_impl.hpp), so that a task whose waker keeps running is
//       taken by an idle worker.
//
// Thread safety: notify_work(), wake_one(), interrupt_keeper() and stop() from any
// thread; the worker side (announce, retract, try_keep, release_keeper, spinning) only
// from the worker that owns the Slot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cogo/detail/config.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/lock.hpp"

namespace cogo::detail {

// What a worker sleeps in.
class Poller {
 public:
  Poller() = default;
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  virtual ~Poller() = default;

  // Owner only. Sleeps until an interrupt() not yet consumed, until the CLOCK_MONOTONIC
  // deadline (kNoDeadline: none), or spuriously. Returns at once if an interrupt is
  // pending.
  virtual void wait(std::int64_t deadline_ns) noexcept = 0;
  // Owner only: forgets a pending interrupt. Called after wait(), before the worker
  // looks for work again, so that an interrupt arriving later is kept for the next wait.
  virtual void consume() noexcept = 0;
  // Any thread: makes the owner's current or next wait() return. Interrupts before a
  // consume() coalesce into one.
  virtual void interrupt() noexcept = 0;
};

// What a worker sleeps in when it does I/O: its own event loop (cogo::asio supplies one,
// the worker's io_context). The core knows no more of it than this.
class IoDriver {
 public:
  IoDriver() = default;
  IoDriver(const IoDriver&) = delete;
  IoDriver& operator=(const IoDriver&) = delete;
  virtual ~IoDriver() = default;

  // Owner: runs the completions that are ready, without blocking; returns how many ran.
  virtual std::size_t poll() noexcept = 0;
  // Owner: runs completions until one has run, the CLOCK_MONOTONIC deadline passes
  // (kNoDeadline: none), or interrupt() is called; may return spuriously.
  virtual void wait(std::int64_t deadline_ns) noexcept = 0;
  // Any thread: makes the current or the next wait() return.
  virtual void interrupt() noexcept = 0;
};

// A worker's Poller: a futex word, 1 while an interrupt is pending, and, once I/O is
// attached, the worker's IoDriver, which it then sleeps in instead of the futex.
//
// The worker attaches its driver itself, between waits: interrupt() sets the word and
// then reads the driver, and the worker attaches the driver before a wait reads the word
// (both sequentially consistent), so an interrupt that missed the driver is seen as the
// word, and no worker is asleep on the futex once interrupts go to the driver.
class WorkerPoller final : public Poller {
 public:
  void wait(std::int64_t deadline_ns) noexcept override {
    if (word_.load(std::memory_order_seq_cst) != 0) return;
    if (IoDriver* io = io_.load(std::memory_order_seq_cst)) {
      io->wait(deadline_ns);
    } else {
      futex_wait(word_, 0, deadline_ns);
    }
  }
  // An exchange, not a store: taking an interrupt synchronizes with whoever sent it, so
  // what it published before interrupting (a monitor request, an armed timer) is seen.
  void consume() noexcept override { word_.exchange(0, std::memory_order_acq_rel); }
  void interrupt() noexcept override {
    // Already pending: whoever set it woke the worker (or it has not slept yet).
    if (word_.exchange(1, std::memory_order_seq_cst) != 0) return;
    if (IoDriver* io = io_.load(std::memory_order_seq_cst)) {
      io->interrupt();
    } else {
      futex_wake(word_, 1);
    }
  }

  // Owner: runs ready I/O completions, if a driver is attached; how many ran.
  std::size_t poll_io() noexcept {
    IoDriver* io = io_.load(std::memory_order_relaxed);
    return io != nullptr ? io->poll() : 0;
  }
  bool has_io() const noexcept { return io_.load(std::memory_order_relaxed) != nullptr; }
  // Owner, once, between waits: the driver must outlive the worker.
  void attach(IoDriver* io) noexcept { io_.store(io, std::memory_order_seq_cst); }

 private:
  std::atomic<std::uint32_t> word_{0};
  std::atomic<IoDriver*> io_{nullptr};
};

class IdleSet {
 public:
  // A worker's part in the idle protocol.
  struct Slot {
    Poller* poller = nullptr;
    bool spinning = false;  // owner only: counted in the spinning count
    // Under the set's lock: set by wake_one(), which took the worker out of the set and
    // counted it spinning on its behalf; the worker takes that count over in retract().
    bool woken = false;
  };

  explicit IdleSet(std::size_t workers);
  IdleSet(const IdleSet&) = delete;
  IdleSet& operator=(const IdleSet&) = delete;

  // Any thread, after making work visible: wakes an idle worker, unless none is idle or
  // one is spinning (it will look).
  void notify_work() noexcept;
  // Any thread: takes one worker out of the set, counts it spinning, interrupts it.
  // Returns false if none was idle.
  bool wake_one() noexcept;

  // Owner: starts spinning, unless half the busy workers or more already spin (Go's
  // rule: spinning costs a core). Returns whether it spins.
  bool start_spinning(Slot& s) noexcept;
  // Owner: found work while spinning; the last spinner to find work calls notify_work().
  void found_work(Slot& s) noexcept;
  // Owner: joins the set, and stops spinning, in one step (I1, I2).
  void announce(Slot& s) noexcept;
  // Owner: leaves the set after waking or after a recheck found work. If a waker took it
  // out meanwhile, it becomes spinning (the waker counted it so).
  void retract(Slot& s) noexcept;

  // The keeper role: at most one idle worker sleeps on the timers (and watches the
  // next-to-run slots). A worker takes it when it parks and none has it, and keeps it
  // across its idle episodes until it has work to run: then it releases it and, if
  // timers are armed or slots watched, wakes an idle worker to take it over (I5).
  // try_keep() returns whether `s` holds the role (taken now or kept).
  bool try_keep(Slot& s) noexcept;
  // Returns whether `s` held the role.
  bool release_keeper(Slot& s) noexcept;
  // Owner: whether `s` holds the role; a plain load, since only its owner gives `s` the
  // role, so a worker that does not hold it cannot read that it does.
  bool holds_keeper(const Slot& s) const noexcept {
    return keeper_.load(std::memory_order_relaxed) == &s;
  }
  // Any thread: interrupts the keeper; false if there is none. Sequentially consistent
  // against release_keeper(), so that a notifier that finds no keeper wakes an idle
  // worker, or the leaving keeper sees what the notifier published.
  bool interrupt_keeper() noexcept;

  // Any thread: sets the stop flag and interrupts every idle worker (I3).
  void stop() noexcept;
  bool stopping() const noexcept { return stopping_.load(std::memory_order_seq_cst); }

  unsigned idle() const noexcept { return idle_count(word_.load(std::memory_order_acquire)); }
  // The idle count read in the total order of announce() and the keeper role's changes.
  unsigned idle_seq_cst() const noexcept {
    return idle_count(word_.load(std::memory_order_seq_cst));
  }
  unsigned spinning() const noexcept {
    return spin_count(word_.load(std::memory_order_acquire));
  }

 private:
  // The idle count in the high half, the spinning count in the low half.
  static constexpr std::uint64_t kIdleOne = std::uint64_t{1} << 32;
  static constexpr std::uint64_t kSpinOne = 1;
  static unsigned idle_count(std::uint64_t w) noexcept { return static_cast<unsigned>(w >> 32); }
  static unsigned spin_count(std::uint64_t w) noexcept {
    return static_cast<unsigned>(w & 0xffffffffu);
  }

  const std::size_t workers_;
  Lock mu_;
  std::vector<Slot*> idle_ COGO_GUARDED_BY(mu_);
  // On lines of their own: the word is written whenever a worker starts or stops
  // spinning or sleeping, and every worker reads the keeper on every run.
  alignas(64) std::atomic<std::uint64_t> word_{0};
  alignas(64) std::atomic<Slot*> keeper_{nullptr};
  std::atomic<bool> stopping_{false};
};

}  // namespace cogo::detail
