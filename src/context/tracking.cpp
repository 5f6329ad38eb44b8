// Cancelable contexts listed for leak checks while tracking is on.
#include <mutex>
#include <unordered_set>

#include "cogo/detail/context_node.hpp"

namespace cogo::detail {

std::atomic<bool> g_track_contexts{false};

namespace {
struct Tracked {
  std::mutex mu;
  std::unordered_set<CancelNode*> nodes;
};
Tracked& tracked() {
  static auto* t = new Tracked;  // never destroyed: nodes may die during exit
  return *t;
}
}  // namespace

void track_context(CancelNode* n) noexcept {
  Tracked& t = tracked();
  std::lock_guard<std::mutex> g(t.mu);
  try {
    t.nodes.insert(n);
    n->tracked_ = true;
  } catch (...) {
    // Out of memory: this one goes unlisted.
  }
}

void untrack_context(CancelNode* n) noexcept {
  Tracked& t = tracked();
  std::lock_guard<std::mutex> g(t.mu);
  t.nodes.erase(n);
  n->tracked_ = false;
}

void for_each_tracked_context(void (*fn)(CancelNode* n, void* arg), void* arg) {
  Tracked& t = tracked();
  std::lock_guard<std::mutex> g(t.mu);
  for (CancelNode* n : t.nodes) fn(n, arg);
}

}  // namespace cogo::detail
