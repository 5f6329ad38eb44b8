// The idle protocol of include/cogo/detail/idle.hpp.
#include "cogo/detail/idle.hpp"

#include <algorithm>

namespace cogo::detail {

IdleSet::IdleSet(std::size_t workers) : workers_(workers) { idle_.reserve(workers); }

void IdleSet::notify_work() noexcept {
  // A sequentially consistent fence, then the word (I1): if the fence comes before
  // announce()'s read-modify-write in the total order, the announcing worker's recheck
  // (sequentially consistent loads of the queues) sees the work made visible before
  // the fence; if after, this load sees the worker idle. A fence rather than a
  // read-modify-write of the word keeps the word's cache line shared between the
  // workers: every push calls this.
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer does not model fences (g++ refuses them under it): a read-modify-
  // write of the word, which pairs with announce()'s in the word's modification order,
  // is as correct and only slower.
  const std::uint64_t w = word_.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint64_t w = word_.load(std::memory_order_relaxed);
#endif
  if (spin_count(w) == 0 && idle_count(w) > 0) wake_one();
}

bool IdleSet::wake_one() noexcept {
  Slot* s = nullptr;
  {
    LockGuard g(mu_);
    if (idle_.empty()) return false;
    s = idle_.back();
    idle_.pop_back();
    s->woken = true;
    // Counted spinning from now (Go's wakep): notifiers until it runs wake nobody else.
    word_.fetch_add(kSpinOne - kIdleOne, std::memory_order_acq_rel);
  }
  s->poller->interrupt();
  return true;
}

bool IdleSet::start_spinning(Slot& s) noexcept {
  if (s.spinning) return true;
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    const unsigned busy = static_cast<unsigned>(workers_) - idle_count(w);
    if (2 * spin_count(w) >= busy && spin_count(w) > 0) return false;
    if (word_.compare_exchange_weak(w, w + kSpinOne, std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
      s.spinning = true;
      return true;
    }
  }
}

void IdleSet::found_work(Slot& s) noexcept {
  if (!s.spinning) return;
  s.spinning = false;
  const std::uint64_t w = word_.fetch_sub(kSpinOne, std::memory_order_acq_rel);
  // The last spinner found work: there may be more, and nobody is looking for it now.
  if (spin_count(w) == 1 && idle_count(w) > 0) wake_one();
}

void IdleSet::announce(Slot& s) noexcept {
  LockGuard g(mu_);
  idle_.push_back(&s);
  const std::uint64_t delta = kIdleOne - (s.spinning ? kSpinOne : 0);
  s.spinning = false;
  // Sequentially consistent, besides pairing with notify_work's read-modify-write: a
  // leaving keeper reads the idle count (seq_cst) after releasing the role, and this
  // worker's try_keep comes after this, so one of them sees the other.
  word_.fetch_add(delta, std::memory_order_seq_cst);
}

void IdleSet::retract(Slot& s) noexcept {
  LockGuard g(mu_);
  if (s.woken) {
    s.woken = false;
    s.spinning = true;  // wake_one() already moved us from idle to spinning
    return;
  }
  auto it = std::find(idle_.begin(), idle_.end(), &s);
  if (it != idle_.end()) {
    idle_.erase(it);
    word_.fetch_sub(kIdleOne, std::memory_order_acq_rel);
  }
}

bool IdleSet::try_keep(Slot& s) noexcept {
  Slot* expected = nullptr;
  if (keeper_.compare_exchange_strong(expected, &s, std::memory_order_seq_cst)) return true;
  return expected == &s;  // kept from an earlier idle episode
}

bool IdleSet::release_keeper(Slot& s) noexcept {
  Slot* expected = &s;
  return keeper_.compare_exchange_strong(expected, nullptr, std::memory_order_seq_cst);
}

bool IdleSet::interrupt_keeper() noexcept {
  Slot* k = keeper_.load(std::memory_order_seq_cst);
  if (k == nullptr) return false;
  k->poller->interrupt();  // slots live as long as the scheduler
  return true;
}

void IdleSet::stop() noexcept {
  stopping_.store(true, std::memory_order_seq_cst);
  LockGuard g(mu_);
  for (Slot* s : idle_) s->poller->interrupt();
}

}  // namespace cogo::detail
