#include "support/test_support.hpp"

#include <dirent.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "cogo/context.hpp"
#include "cogo/detail/pool.hpp"
#include "cogo/diag/leak_check.hpp"
#include "cogo/timer.hpp"

namespace {
thread_local std::uint64_t tls_new_calls = 0;
// FailAllocation: operator new calls on this thread still to succeed before one fails
// (0: none fails), and whether one has failed.
thread_local std::uint64_t tls_fail_countdown = 0;
thread_local bool tls_fail_fired = false;

bool should_fail() noexcept {
  if (tls_fail_countdown == 0) return false;
  if (--tls_fail_countdown != 0) return false;
  tls_fail_fired = true;
  return true;
}
}  // namespace

// Counting replacements of the global allocation functions, which FailAllocation can make
// fail.
void* operator new(std::size_t n) {
  ++tls_new_calls;
  if (should_fail()) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++tls_new_calls;
  if (should_fail()) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// The nothrow forms too: the library's own (std::get_temporary_buffer uses them) would
// otherwise pair a sanitizer's new with the free below.
// A failing nothrow call returns null, as the real one does when memory is short.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++tls_new_calls;
  if (should_fail()) return nullptr;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  ++tls_new_calls;
  if (should_fail()) return nullptr;
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace cogo::test {

double stress_scale() {
  if (const char* s = std::getenv("COGO_STRESS_SCALE")) return std::atof(s);
  return COGO_STRESS_SCALE;
}

int scaled(int n) {
  const int v = static_cast<int>(n * stress_scale());
  return v < 1 ? 1 : v;
}

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

std::uint64_t allocations() {
  const auto& pool = cogo::detail::tls_pool;
  return tls_new_calls - pool.misses + pool.requests;
}

void warm_up_runtime() {
  // A fired timer starts the timer driver; an after_func starts the executor.
  std::atomic<bool> ran{false};
  cogo::Timer t(std::chrono::nanoseconds(1));
  t.wait();
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto stop = cogo::after_func(ctx, [&] { ran.store(true); });
  cancel();
  eventually([&] { return ran.load(); });
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return pred();
    std::this_thread::yield();
  }
  return true;
}

FailAllocation::FailAllocation(std::uint64_t nth) noexcept {
  tls_fail_countdown = nth;
  tls_fail_fired = false;
}
FailAllocation::~FailAllocation() { tls_fail_countdown = 0; }
bool FailAllocation::fired() const noexcept { return tls_fail_fired; }

NoContextTracking::NoContextTracking() : was_on_(cogo::leaks::track_contexts(false)) {}
NoContextTracking::~NoContextTracking() { cogo::leaks::track_contexts(was_on_); }

}  // namespace cogo::test
