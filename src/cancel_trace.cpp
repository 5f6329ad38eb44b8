// Cancellations counted per thread by origin, and the process's cancel hook.
//
// Each thread counts in its own table of slots, claimed per (site, code) on the first
// cancel there and never released: only the owner writes a slot, readers sum them. A
// thread that ends hands its table to the next thread that needs one, counts and all,
// so no count is lost and the number of tables stays at the peak number of threads.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "cogo/cancel_trace.hpp"
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
  std::shared_ptr<const diag::CancelHook> hook;
};

Registry& registry() {
  static auto* r = new Registry;  // never destroyed: threads count during exit
  return *r;
}

std::atomic<bool> g_has_hook{false};

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
  if (!g_has_hook.load(std::memory_order_acquire)) return;
  std::shared_ptr<const diag::CancelHook> hook;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    hook = r.hook;
  }
  if (!hook) return;
  try {
    const std::string text = describe(&n);
    (*hook)(diag::CancelEvent{err, cause, site, text});
  } catch (...) {
    // A hook must not throw; nor may describe's allocation failure stop a cancel.
  }
}

}  // namespace detail

namespace diag {

void on_cancel(CancelHook hook) {
  auto p = hook ? std::make_shared<const CancelHook>(std::move(hook)) : nullptr;
  detail::Registry& r = detail::registry();
  std::lock_guard<std::mutex> g(r.mu);
  detail::g_has_hook.store(p != nullptr, std::memory_order_release);
  r.hook = std::move(p);
}

std::vector<CancelCount> cancel_counts() {
  std::map<detail::OverflowKey, std::uint64_t> sums;
  {
    detail::Registry& r = detail::registry();
    std::lock_guard<std::mutex> g(r.mu);
    sums = r.overflow;
    for (detail::Table* t : r.tables) {
      for (detail::Slot& s : t->slots) {
        if (!s.used.load(std::memory_order_acquire)) continue;
        sums[detail::OverflowKey{s.file, s.line, s.function, s.code}] +=
            s.count.load(std::memory_order_relaxed);
      }
    }
  }
  std::vector<CancelCount> out;
  out.reserve(sums.size());
  for (const auto& [k, n] : sums) {
    out.push_back(CancelCount{std::get<0>(k), std::get<1>(k), std::get<2>(k),
                              std::get<3>(k) == 1 ? "deadline_exceeded" : "canceled", n});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CancelCount& a, const CancelCount& b) { return a.count > b.count; });
  return out;
}

}  // namespace diag
}  // namespace cogo
