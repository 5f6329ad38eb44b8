// diag::on_cancel and diag::cancel_counts, over the core's counts and its hook slot.
#include "cogo/diag/cancel_trace.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "cogo/detail/context_node.hpp"

namespace cogo {
namespace {

struct HookSlot {
  std::mutex mu;
  std::shared_ptr<const diag::CancelHook> hook;
};

HookSlot& hook_slot() {
  static auto* s = new HookSlot;  // never destroyed: cancels happen during exit
  return *s;
}

void forward(const detail::CancelNode& n, const Error& err, const Error& cause,
             const source_location& site) noexcept {
  std::shared_ptr<const diag::CancelHook> hook;
  {
    HookSlot& s = hook_slot();
    std::lock_guard<std::mutex> g(s.mu);
    hook = s.hook;
  }
  if (!hook) return;
  try {
    const std::string text = detail::describe(&n);
    (*hook)(diag::CancelEvent{err, cause, site, text});
  } catch (...) {
    // A hook must not throw; nor may describe's allocation failure stop a cancel.
  }
}

using Key = std::tuple<std::string, std::uint32_t, std::string, std::uint8_t>;

}  // namespace

namespace diag {

void on_cancel(CancelHook hook) {
  auto p = hook ? std::make_shared<const CancelHook>(std::move(hook)) : nullptr;
  HookSlot& s = hook_slot();
  std::lock_guard<std::mutex> g(s.mu);
  detail::g_cancel_hook.store(p != nullptr ? &forward : nullptr, std::memory_order_release);
  s.hook = std::move(p);
}

std::vector<CancelCount> cancel_counts() {
  std::map<Key, std::uint64_t> sums;
  detail::for_each_cancel_count(
      [](const char* file, std::uint32_t line, const char* function, std::uint8_t code,
         std::uint64_t n, void* arg) {
        (*static_cast<std::map<Key, std::uint64_t>*>(arg))[Key{file, line, function, code}] += n;
      },
      &sums);
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
