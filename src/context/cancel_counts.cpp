// Cancellations counted per thread by origin, and live contexts; the cancel hook's slot.
//
// Each thread counts in its own table of slots, claimed per (site, code) on the first
// cancel there and never released: only the owner writes a slot, readers sum them. A
// thread that ends hands its table to the next thread that needs one, counts and all,
// so no count is lost and the number of tables stays at the peak number of threads.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/runtime.hpp"

namespace cogo {
namespace detail {
namespace {

constexpr std::size_t kSlots = 64;

struct Slot {
  std::atomic<bool> used{false};
  const char* file = nullptr;       // written before `used` is published
  const char* function = nullptr;
  std::uint32_t line = 0;
  std::uint8_t code = 0;
  std::atomic<std::uint64_t> count{0};
};

struct Table {
  std::atomic<std::int64_t> contexts{0};  // made minus freed on this thread (may go negative)
  Slot slots[kSlots];
  Table* next_free = nullptr;
};

// Counts that find no slot of their thread's table (more than kSlots sites, or a
// collision): a locked map.
using OverflowKey = std::tuple<std::string, std::uint32_t, std::string, std::uint8_t>;

struct Registry {
  std::mutex mu;
  std::vector<Table*> tables;       // every table ever made; never freed
  Table* free = nullptr;            // tables of threads that ended
  std::map<OverflowKey, std::uint64_t> overflow;
};

Registry& registry() {
  static auto* r = new Registry;  // never destroyed: threads count during exit
  return *r;
}

thread_local constinit Table* tls_table = nullptr;
// Set once the thread's table has been handed back at thread exit: counts made by
// thread_local destructors that run later go to the shared fallbacks.
thread_local constinit bool tls_table_returned = false;
// Live-context changes made without a table.
std::atomic<std::int64_t> g_contexts_without_table{0};

}  // namespace

thread_local constinit std::atomic<std::int64_t>* tls_live_contexts = nullptr;

namespace {

struct TableReturner {
  ~TableReturner() {
    if (tls_table == nullptr) return;
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    tls_table->next_free = r.free;
    r.free = tls_table;
    tls_table = nullptr;
    tls_live_contexts = nullptr;
    tls_table_returned = true;
  }
};

Table* acquire_table() {
  thread_local TableReturner returner;  // constructed here, on the thread's first count
  (void)returner;
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  if (Table* t = r.free) {
    r.free = t->next_free;
    return t;
  }
  auto* t = new Table;
  r.tables.push_back(t);
  return t;
}

void count_overflow(const source_location& site, std::uint8_t code) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  try {
    ++r.overflow[OverflowKey{site.file_name(), site.line(), site.function_name(), code}];
  } catch (...) {
    // Out of memory: this cancel goes uncounted.
  }
}

Table* my_table() noexcept {
  Table* t = tls_table;
  if (COGO_UNLIKELY(t == nullptr)) {
    if (tls_table_returned) return nullptr;
    try {
      t = tls_table = acquire_table();
    } catch (...) {
      return nullptr;
    }
    tls_live_contexts = &t->contexts;
  }
  return t;
}

void count(const source_location& site, std::uint8_t code) noexcept {
  Table* t = my_table();
  if (t == nullptr) {
    count_overflow(site, code);
    return;
  }
  const char* file = site.file_name();
  const std::uint32_t line = site.line();
  std::size_t i = (reinterpret_cast<std::uintptr_t>(file) >> 3 ^ line * 0x9E3779B1u ^ code) % kSlots;
  for (std::size_t probe = 0; probe < 4; ++probe, i = (i + 1) % kSlots) {
    Slot& s = t->slots[i];
    if (!s.used.load(std::memory_order_relaxed)) {
      s.file = file;
      s.function = site.function_name();
      s.line = line;
      s.code = code;
      s.count.store(1, std::memory_order_relaxed);
      s.used.store(true, std::memory_order_release);
      return;
    }
    if (s.file == file && s.line == line && s.code == code) {
      s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
  }
  count_overflow(site, code);
}

}  // namespace

void count_contexts_slow(int delta) noexcept {
  if (Table* t = my_table()) {
    t->contexts.store(t->contexts.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  } else {
    g_contexts_without_table.fetch_add(delta, std::memory_order_relaxed);
  }
}

std::int64_t live_contexts() noexcept {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  std::int64_t n = g_contexts_without_table.load(std::memory_order_relaxed);
  for (Table* t : r.tables) n += t->contexts.load(std::memory_order_relaxed);
  return n;
}

void note_cancel(const CancelNode& n, const Error& err, const Error& cause) noexcept {
  // The site of the request, or for a deadline (whose error names no site) the node's.
  const source_location& site = err.has_site() ? err.where() : n.site();
  const auto code = static_cast<std::uint8_t>(err.is(errc::deadline_exceeded) ? 1 : 0);
  count(site, code);
  if (COGO_UNLIKELY(g_tracing.load(std::memory_order_relaxed))) trace_cancel(site, code == 1);
  if (CancelHookFn hook = g_cancel_hook.load(std::memory_order_acquire)) hook(n, err, cause, site);
}

void for_each_cancel_count(void (*fn)(const char* file, std::uint32_t line, const char* function,
                                      std::uint8_t code, std::uint64_t count, void* arg),
                           void* arg) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  for (const auto& [k, n] : r.overflow) {
    fn(std::get<0>(k).c_str(), std::get<1>(k), std::get<2>(k).c_str(), std::get<3>(k), n, arg);
  }
  for (Table* t : r.tables) {
    for (Slot& s : t->slots) {
      if (!s.used.load(std::memory_order_acquire)) continue;
      fn(s.file, s.line, s.function, s.code, s.count.load(std::memory_order_relaxed), arg);
    }
  }
}

std::atomic<CancelHookFn> g_cancel_hook{nullptr};

}  // namespace detail
}  // namespace cogo
