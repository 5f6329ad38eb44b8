// after(d), sleep(d) and timer.recv() as awaitables and select cases. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "cogo/detail/done_case.hpp"
#include "cogo/detail/duration.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/timer_service.hpp"
#include "cogo/detail/timer_state.hpp"

namespace cogo::detail {

// Reports on stderr, once per process, that a timeout at `site` ended at once because
// the timer heap could not grow.
void report_unarmed_after(const source_location& site) noexcept;

// A timeout owned by one wait: its timer entry lives in the waiting frame and is armed
// only if the wait has to suspend, so a select that finds another case ready arms
// nothing. The delay counts from when the wait starts waiting. If the entry cannot be
// armed (no memory for the heap), the timeout fires at once: early, never lost.
class AfterCase : private TimerEntry {
 public:
  using result_type = std::chrono::steady_clock::time_point;
  static constexpr bool kWakesUnlocked = true;

  AfterCase(std::int64_t delay_ns, WaitReason reason, source_location site) noexcept
      : TimerEntry(TimerKind::after), delay_ns_(delay_ns), reason_(reason), site_(site) {
    // Finds the clock now, outside any select's locks: the first look from a plain thread
    // starts the default scheduler (its threads), which must not happen under a lock.
    (void)TimerService::current();
  }
  AfterCase(AfterCase&& o) noexcept
      : TimerEntry(TimerKind::after), delay_ns_(o.delay_ns_), reason_(o.reason_), site_(o.site_) {}

  Lock* lock() noexcept { return nullptr; }
  bool poll(WaitState&, int) noexcept {
    if (delay_ns_ > 0) return false;
    fired_at_ = TimerService::current().now();
    return true;
  }
  void enqueue(WaitState& ws, int case_index) noexcept {
    ws_ = &ws;
    index_ = case_index;
    svc_ = &TimerService::current();
    svc_->add_ref();
    const std::int64_t when = svc_->deadline_after(delay_ns_);
    if (when == kEndOfTime) return;  // never due: nothing to arm, and this case never fires
    // Set before arming: the timer may fire on another worker as soon as it is armed.
    armed_ = true;
    try {
      svc_->arm(this, when);
    } catch (...) {
      // Out of memory for the timer heap. A timeout that can never fire would leave the
      // wait stuck for good; it times out now instead, and says so on stderr.
      armed_ = false;
      report_unarmed_after(site_);
      fired_at_ = svc_->now();
      if (ws.try_claim(case_index)) ws.wake();  // deferred: the awaiter resumes at once
      fired_.store(true, std::memory_order_release);
    }
  }
  void dequeue() noexcept {
    if (armed_ && !svc_->disarm(this)) settle_ = true;  // it fired: wait for fire_after
  }
  void settle() noexcept {
    if (settle_) {
      while (!fired_.load(std::memory_order_acquire)) spin_pause();
    }
    release_service();
  }
  void after_unlock() noexcept {}
  result_type result() noexcept {
    release_service();
    return result_type(std::chrono::nanoseconds(fired_at_));
  }
  WaitReason reason() const noexcept { return reason_; }
  const source_location& site() const noexcept { return site_; }
  // The site of the after() or sleep() whose armed entry `e` is; for leak reports.
  static const source_location& site_of(const TimerEntry* e) noexcept {
    return static_cast<const AfterCase*>(e)->site_;
  }

  auto operator co_await() && noexcept { return SingleAwaiter<AfterCase>(std::move(*this)); }

 private:
  friend void fire_after(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;
  void release_service() noexcept {
    if (svc_ != nullptr) std::exchange(svc_, nullptr)->release();
  }

  std::int64_t delay_ns_;
  WaitReason reason_;
  source_location site_;
  WaitState* ws_ = nullptr;
  int index_ = 0;
  TimerService* svc_ = nullptr;  // a reference, while armed
  bool armed_ = false;
  bool settle_ = false;
  std::int64_t fired_at_ = 0;
  std::atomic<bool> fired_{false};
};

// A receiver of a Timer's or Ticker's values that belongs to a wait.
struct WaitReceiver : TimerReceiver {
  WaitState* ws = nullptr;
  int index = 0;
  std::atomic<bool> done{false};  // the timer is done with this receiver

  WaitReceiver() noexcept {
    claim = [](TimerReceiver* self) noexcept {
      auto* r = static_cast<WaitReceiver*>(self);
      if (r->ws->try_claim(r->index)) return true;
      r->done.store(true, std::memory_order_release);
      return false;
    };
    wake = [](TimerReceiver* self) noexcept {
      auto* r = static_cast<WaitReceiver*>(self);
      WaitState* waiter = r->ws;
      r->done.store(true, std::memory_order_release);  // last touch of the receiver
      waiter->wake();
    };
  }
};

class TimerRecvCase {
 public:
  using result_type = std::chrono::steady_clock::time_point;

  TimerRecvCase(TimerState* s, source_location site) noexcept : s_(s), site_(site) {}
  TimerRecvCase(TimerRecvCase&& o) noexcept : s_(o.s_), site_(o.site_) {}

  Lock* lock() noexcept { return &s_->wait_lock(); }
  bool poll(WaitState&, int) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    return s_->try_receive_locked(receiver_.value);
  }
  void enqueue(WaitState& ws, int index) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    receiver_.ws = &ws;
    receiver_.index = index;
    s_->add_receiver_locked(&receiver_);
    enqueued_ = true;
  }
  void dequeue() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (receiver_.linked()) {
      s_->remove_receiver_locked(&receiver_);
    } else if (enqueued_) {
      settle_ = true;  // a fire took it: wait for its claim or wake to finish
    }
  }
  void settle() noexcept {
    if (!settle_) return;
    while (!receiver_.done.load(std::memory_order_acquire)) spin_pause();
  }
  void after_unlock() noexcept {}
  result_type result() noexcept { return result_type(std::chrono::nanoseconds(receiver_.value)); }
  WaitReason reason() const noexcept { return WaitReason::timer_receive; }
  const source_location& site() const noexcept { return site_; }

  auto operator co_await() && noexcept { return SingleAwaiter<TimerRecvCase>(std::move(*this)); }

 private:
  TimerState* s_;
  source_location site_;
  WaitReceiver receiver_;
  bool enqueued_ = false;
  bool settle_ = false;
};

}  // namespace cogo::detail
