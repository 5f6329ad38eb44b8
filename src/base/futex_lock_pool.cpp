// Futex wrappers, the Lock's slow path and the pool's slow path.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <vector>

#include "cogo/detail/futex.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/pool.hpp"

namespace cogo::detail {

namespace {
long futex(const std::atomic<std::uint32_t>& word, int op, std::uint32_t val,
           const timespec* ts, std::uint32_t mask) noexcept {
  // The kernel reads the word; the atomic is layout-compatible with a 32-bit integer.
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), op, val, ts, nullptr,  // NOLINT
                 mask);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::int64_t deadline_ns) noexcept {
  if (deadline_ns == kNoDeadline) {
    futex(word, FUTEX_WAIT_PRIVATE, expected, nullptr, 0);
    return true;
  }
  if (deadline_ns <= monotonic_ns()) return false;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time.
  const long r = futex(word, FUTEX_WAIT_BITSET_PRIVATE, expected, &ts, FUTEX_BITSET_MATCH_ANY);
  return !(r == -1 && errno == ETIMEDOUT);
}

void futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept {
  futex(word, FUTEX_WAKE_PRIVATE, static_cast<std::uint32_t>(count), nullptr, 0);
}

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t monotonic_ns_coarse() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t monotonic_ns_upper() noexcept {
  static const std::int64_t tick = [] {
    timespec res{};
    clock_getres(CLOCK_MONOTONIC_COARSE, &res);
    return static_cast<std::int64_t>(res.tv_sec) * 1'000'000'000 + res.tv_nsec;
  }();
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec + tick;
}

void Lock::lock_slow() noexcept {
  // A short spin covers the common case of a holder that is a few instructions from
  // unlocking; after that, sleep in the kernel rather than burn a core we may share.
  for (int i = 0; i < 64; ++i) {
    cpu_relax();
    if (state_.load(std::memory_order_relaxed) == kUnlocked) {
      std::uint32_t expected = kUnlocked;
      if (state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
  }
  // Mark the lock contended so that the holder's unlock wakes a sleeper.
  while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
    futex_wait(state_, kContended);
  }
}

void Lock::wake_one() noexcept { futex_wake(state_, 1); }

// ---- pool ----

thread_local constinit PoolCache tls_pool{};

namespace {
struct PoolDrain {
  ~PoolDrain() {
    tls_pool.closed = true;
    for (PoolClass& c : tls_pool.classes) {
      while (PoolBlock* b = c.head) {
        c.head = b->next;
        ::operator delete(b);
      }
      c.count = 0;
    }
  }
};
}  // namespace

void pool_register_thread() noexcept {
  tls_pool.registered = true;
  // Constructing the guard registers its destructor for this thread's exit.
  thread_local PoolDrain drain;
  (void)drain;
}

namespace {

constexpr unsigned kBatch = kPoolClassLimit / 2;  // blocks moved at once
constexpr std::size_t kDepotBatches = 512;        // batches kept per size class

// Batches of freed blocks shared by all threads, per size class. Each entry is the head
// of a list of exactly kBatch blocks.
struct Depot {
  Lock mu;
  std::vector<PoolBlock*> batches COGO_GUARDED_BY(mu);
};

// Never destroyed: threads may free blocks while the process exits.
Depot* depots() noexcept {
  constexpr std::size_t n = kPoolMaxSize / kPoolGranule;
  alignas(Depot) static unsigned char storage[n * sizeof(Depot)];
  static Depot* const d = [] {
    auto* first = reinterpret_cast<Depot*>(storage);
    for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(first + i)) Depot;
    return first;
  }();
  return d;
}

}  // namespace

void* pool_allocate_slow(std::size_t size) {
  const std::size_t cls = (size - 1) / kPoolGranule;
  Depot& d = depots()[cls];
  PoolBlock* batch = nullptr;
  {
    LockGuard g(d.mu);
    if (!d.batches.empty()) {
      batch = d.batches.back();
      d.batches.pop_back();
    }
  }
  if (batch == nullptr) {
    ++tls_pool.misses;
    return ::operator new(pool_class_size(size));
  }
  if (!tls_pool.registered) pool_register_thread();
  PoolClass& c = tls_pool.classes[cls];
  // The cache is empty (that is why we are here): the batch becomes it, minus one block.
  c.head = batch->next;
  c.count = kBatch - 1;
  return batch;
}

void pool_free_slow(void* p, std::size_t size) noexcept {
  const std::size_t cls = (size - 1) / kPoolGranule;
  PoolClass& c = tls_pool.classes[cls];
  // Detach kBatch blocks from the full cache: `p` and kBatch - 1 of the cached ones.
  auto* batch = static_cast<PoolBlock*>(p);
  batch->next = c.head;
  PoolBlock* last = batch;
  for (unsigned i = 1; i < kBatch; ++i) last = last->next;
  c.head = last->next;
  last->next = nullptr;
  c.count -= kBatch - 1;
  Depot& d = depots()[cls];
  {
    LockGuard g(d.mu);
    if (d.batches.size() < kDepotBatches) {
      try {
        d.batches.push_back(batch);
        return;
      } catch (...) {
        // No memory for the depot's list: free the batch below.
      }
    }
  }
  while (batch != nullptr) {
    PoolBlock* next = batch->next;
    ::operator delete(batch);
    batch = next;
  }
}

}  // namespace cogo::detail
