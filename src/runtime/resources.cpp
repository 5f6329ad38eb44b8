// The registry of adapters' resource kinds.
#include "cogo/detail/resources.hpp"

#include <atomic>

namespace cogo::detail {

namespace {
constexpr int kMaxKinds = 16;
std::atomic<const ResourceKind*> g_kinds[kMaxKinds] = {};
}  // namespace

void register_resource_kind(const ResourceKind* kind) noexcept {
  for (auto& slot : g_kinds) {
    const ResourceKind* expected = nullptr;
    if (slot.load(std::memory_order_acquire) == kind) return;
    if (slot.compare_exchange_strong(expected, kind, std::memory_order_acq_rel)) return;
    if (expected == kind) return;
  }
  // More kinds than slots: the extra kind goes unreported (no adapter needs that many).
}

void for_each_resource_kind(void (*fn)(const ResourceKind& kind, void* arg), void* arg) {
  for (auto& slot : g_kinds) {
    if (const ResourceKind* k = slot.load(std::memory_order_acquire)) fn(*k, arg);
  }
}

}  // namespace cogo::detail
