// RWMutex
//
// A reader/writer lock for tasks (Go's sync.RWMutex): held by any number of readers or by
// one writer. co_await rlock() / runlock() for readers, co_await lock() / unlock() for
// the writer; try_rlock(), try_lock(); co_await scoped_rlock() / scoped_lock() for guards
// that unlock when destroyed; rlock_case() and lock_case() for select. Waiting suspends
// the task, never the worker thread.
//
// Writer preference, as in Go: once a writer waits, new readers wait behind it (and
// try_rlock() fails), so a stream of readers cannot starve a writer; when the writer
// unlocks, every reader that queued meanwhile gets in before the next writer, so writers
// cannot starve readers either. Writers are served in arrival order. As in Go, a reader
// must not rlock() again while it holds a read lock: a writer queued in between would
// deadlock both. runlock() without a read lock held, or unlock() without the write lock,
// throws usage_error and changes nothing (Go panics).
//
// Thread safety: every member is safe from any thread and any task at once; as in Go, a
//   lock is not tied to the task that took it.
// Cancellation: not cancellation-aware; select on lock_case() or rlock_case() and
//   ctx.done() to give up.
// Lifetime: the RWMutex must outlive the waits on it.
// Memory ordering: unlock() happens-before the lock() or rlock() it lets in; runlock()
//   happens-before the lock() it lets in.
// Complexity: O(1) per operation, plus O(readers let in).
// Example:
//   cogo::RWMutex mu;
//   { auto g = co_await mu.scoped_rlock(); read(table); }
//   { auto g = co_await mu.scoped_lock(); table.insert(x); }
#pragma once

#include <cstdint>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"

namespace cogo {

namespace detail {
// rlock() (Write false) or lock() (Write true) as a case. M is RWMutex; a template
// parameter so that the members below may use it before it is complete.
template <class M, bool Write>
class RWMutexCase {
 public:
  using result_type = bool;  // always true once it wins

  RWMutexCase(M* m, source_location site) noexcept : m_(m), site_(site) {}
  RWMutexCase(RWMutexCase&& c) noexcept : m_(c.m_), site_(c.site_) {}

  Lock* lock() noexcept { return &m_->mu_; }
  bool poll(WaitState&, int) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    return Write ? m_->try_lock_locked() : m_->try_rlock_locked();
  }
  void enqueue(WaitState& ws, int index) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    waiter_.ws = &ws;
    waiter_.index = index;
    (Write ? m_->writers_ : m_->readers_).push_back(&waiter_);
  }
  // A select that another case won leaves the queue; a writer leaving may let readers in.
  void dequeue() noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (!waiter_.linked()) return;
    List::remove(&waiter_);
    m_->admit_locked(woken_, false);
  }
  void settle() noexcept { wake_all(woken_); }
  void after_unlock() noexcept {}
  result_type result() noexcept { return true; }
  WaitReason reason() const noexcept {
    return Write ? WaitReason::sync_rwmutex_lock : WaitReason::sync_rwmutex_rlock;
  }
  const source_location& site() const noexcept { return site_; }

 private:
  M* m_;
  source_location site_;
  ListWaiter waiter_;
  List woken_;
};
}  // namespace detail

class RWMutex {
 public:
  RWMutex() noexcept = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  using RLockCase = detail::RWMutexCase<RWMutex, false>;
  using LockCase = detail::RWMutexCase<RWMutex, true>;

  // Readers.
  [[nodiscard]] detail::SingleAwaiter<RLockCase> rlock(source_location where = source_location::current()) noexcept {
    return detail::SingleAwaiter<RLockCase>(RLockCase(this, where));
  }
  [[nodiscard]] RLockCase rlock_case(source_location where = source_location::current()) noexcept {
    return RLockCase(this, where);
  }
  // Fails while a writer holds the lock or waits for it.
  bool try_rlock() noexcept;
  // Throws usage_error if no read lock is held.
  void runlock();

  // The writer.
  [[nodiscard]] detail::SingleAwaiter<LockCase> lock(source_location where = source_location::current()) noexcept {
    return detail::SingleAwaiter<LockCase>(LockCase(this, where));
  }
  [[nodiscard]] LockCase lock_case(source_location where = source_location::current()) noexcept {
    return LockCase(this, where);
  }
  bool try_lock() noexcept;
  // Lets in the readers that queued meanwhile, else the next writer. Throws usage_error
  // if the write lock is not held.
  void unlock();

  // Guards that release when destroyed.
  template <bool Write>
  class [[nodiscard]] BasicGuard {
   public:
    explicit BasicGuard(RWMutex& m) noexcept : m_(&m) {}
    BasicGuard(BasicGuard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    BasicGuard(const BasicGuard&) = delete;
    BasicGuard& operator=(const BasicGuard&) = delete;
    BasicGuard& operator=(BasicGuard&&) = delete;
    ~BasicGuard() {
      if (m_ == nullptr) return;
      if constexpr (Write) {
        m_->unlock();
      } else {
        m_->runlock();
      }
    }

   private:
    RWMutex* m_;
  };
  using ReadGuard = BasicGuard<false>;
  using Guard = BasicGuard<true>;

  template <bool Write>
  struct ScopedAwaiter : detail::SingleAwaiter<detail::RWMutexCase<RWMutex, Write>> {
    using Base = detail::SingleAwaiter<detail::RWMutexCase<RWMutex, Write>>;
    ScopedAwaiter(RWMutex* m, source_location where) noexcept
        : Base(detail::RWMutexCase<RWMutex, Write>(m, where)), m_(m) {}
    BasicGuard<Write> await_resume() noexcept {
      Base::await_resume();
      return BasicGuard<Write>(*m_);
    }
    RWMutex* m_;
  };
  // co_await m.scoped_rlock() / scoped_lock(): locks, and returns a guard that unlocks.
  [[nodiscard]] ScopedAwaiter<false> scoped_rlock(source_location where = source_location::current()) noexcept {
    return ScopedAwaiter<false>(this, where);
  }
  [[nodiscard]] ScopedAwaiter<true> scoped_lock(source_location where = source_location::current()) noexcept {
    return ScopedAwaiter<true>(this, where);
  }

 private:
  template <class M, bool Write>
  friend class detail::RWMutexCase;

  bool try_rlock_locked() noexcept COGO_REQUIRES(mu_) {
    if (writer_ || !writers_.empty()) return false;
    ++active_readers_;
    return true;
  }
  bool try_lock_locked() noexcept COGO_REQUIRES(mu_) {
    if (writer_ || active_readers_ != 0 || !writers_.empty()) return false;
    writer_ = true;
    return true;
  }
  // Lets in whoever may enter now, claimed, into `woken`: after a writer's unlock
  // (`readers_first`) every queued reader, else the next writer once no reader is left,
  // else (no writer waits any more) the queued readers.
  void admit_locked(detail::List& woken, bool readers_first) noexcept COGO_REQUIRES(mu_);
  void admit_readers_locked(detail::List& woken) noexcept COGO_REQUIRES(mu_);

  detail::Lock mu_;
  std::int64_t active_readers_ COGO_GUARDED_BY(mu_) = 0;
  bool writer_ COGO_GUARDED_BY(mu_) = false;
  detail::List readers_ COGO_GUARDED_BY(mu_);  // queued readers
  detail::List writers_ COGO_GUARDED_BY(mu_);  // queued writers
};

}  // namespace cogo
