// Per-thread caches of small blocks for the objects cogo creates and frees at high rates
// (context nodes, timers). Internal.
//
// A freed block goes to the freeing thread's cache for its size class, up to a bound.
// A full cache hands a batch of blocks to a shared depot, where a thread whose cache is
// empty takes a whole batch: when one thread allocates what another frees (a task
// spawned here and finished on another worker), blocks flow back at one lock per batch
// instead of one malloc and free per block. The depot keeps at most 512 batches (65,536
// blocks) per size class; past that, blocks go back to operator delete. (A quarter of
// that bound made errgroup_fanout_10k 1.6x slower: a group's 10,000 frames and records
// no longer fitted.) Blocks carry no header beyond the allocator's. When a
// thread exits, its cache is returned. Built with COGO_NO_POOL (every sanitizer build),
// allocation is plain operator new, so that AddressSanitizer sees every use after free.
#pragma once

#include <cstddef>
#include <new>

namespace cogo::detail {

inline constexpr std::size_t kPoolGranule = 8;
inline constexpr std::size_t kPoolMaxSize = 512;
inline constexpr unsigned kPoolClassLimit = 256;  // blocks kept per class and thread

struct PoolBlock {
  PoolBlock* next;
};

struct PoolClass {
  PoolBlock* head;
  unsigned count;
};

// Trivially destructible so that it stays usable while other thread-local objects are
// destroyed; a separate guard object drains it at thread exit and sets `closed`.
struct PoolCache {
  PoolClass classes[kPoolMaxSize / kPoolGranule];
  // Counters for tests that count allocations: blocks asked of the pool, and the part
  // of them that went on to operator new.
  unsigned long long requests;
  unsigned long long misses;
  bool registered;
  bool closed;
};

extern thread_local constinit PoolCache tls_pool;

void* pool_allocate_slow(std::size_t size);
void pool_free_slow(void* p, std::size_t size) noexcept;
void pool_register_thread() noexcept;

inline constexpr std::size_t pool_class_size(std::size_t size) noexcept {
  return ((size + kPoolGranule - 1) / kPoolGranule) * kPoolGranule;
}

inline void* pool_allocate(std::size_t size) {
#if defined(COGO_NO_POOL)
  return ::operator new(size);
#else
  if (size > kPoolMaxSize) return ::operator new(size);
  ++tls_pool.requests;
  PoolClass& c = tls_pool.classes[(size - 1) / kPoolGranule];
  if (PoolBlock* b = c.head) {
    c.head = b->next;
    --c.count;
    return b;
  }
  return pool_allocate_slow(size);
#endif
}

inline void pool_free(void* p, std::size_t size) noexcept {
#if defined(COGO_NO_POOL)
  (void)size;
  ::operator delete(p);
#else
  if (size <= kPoolMaxSize && !tls_pool.closed) {
    PoolClass& c = tls_pool.classes[(size - 1) / kPoolGranule];
    if (c.count < kPoolClassLimit) {
      if (!tls_pool.registered) pool_register_thread();
      auto* b = static_cast<PoolBlock*>(p);
      b->next = c.head;
      c.head = b;
      ++c.count;
      return;
    }
    pool_free_slow(p, size);  // full: hand a batch to the shared depot
    return;
  }
  ::operator delete(p);
#endif
}

// Mixin giving a class pooled operator new/delete. The sized delete is what lets the
// pool find the size class without a header.
struct Pooled {
  static void* operator new(std::size_t size) { return pool_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { pool_free(p, size); }
};

}  // namespace cogo::detail
