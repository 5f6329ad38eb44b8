// diag::tasks() and bind_context: copies of the registry's task records.
#include <unordered_map>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/diag/tasks.hpp"

namespace cogo {
namespace detail {
namespace {

#if COGO_TASK_REGISTRY
diag::TaskState public_state(std::uint8_t s) noexcept {
  switch (static_cast<TaskState>(s)) {
    case TaskState::running:
      return diag::TaskState::running;
    case TaskState::waiting:
      return diag::TaskState::waiting;
    case TaskState::runnable:
      break;
  }
  return diag::TaskState::runnable;
}

// Copies what a dump needs of one record. Runs under the record's shard lock, so the
// record stays; its wait fields are read under the sequence lock (see TaskRecord).
void copy_record(const TaskRecord& r, std::int64_t now, diag::TaskInfo& out) {
  out.id = r.id;
  out.parent_id = r.parent_id;
  out.name = r.name;
  out.start_site = r.start_site;
  TaskRecord::Reading rd;
  r.read(rd);
  out.state = public_state(rd.state);
  if (out.state == diag::TaskState::waiting) {
    out.wait_reason = wait_reason_text(static_cast<WaitReason>(rd.reason));
    out.wait_site = rd.wait_site;
    out.wait_detail = rd.detail;
    out.waiting_for = std::chrono::nanoseconds(std::max<std::int64_t>(0, now - rd.since));
  }
  out.chain_depth = rd.depth;
  out.chain.resize(rd.kept);
  for (std::uint32_t i = 0; i < rd.kept; ++i) {
    out.chain[i].function = TaskRecord::decode_frame(rd.frames[i]);
  }
  if (r.context != nullptr) {
    auto* n = static_cast<Node*>(r.context);
    n->add_ref();
    out.context = Context::adopt(n);
  }
}
#endif

}  // namespace

}  // namespace detail

namespace diag {

std::vector<TaskInfo> tasks() {
  std::vector<TaskInfo> out;
#if COGO_TASK_REGISTRY
  const std::int64_t now = detail::monotonic_ns_coarse();
  detail::for_each_scheduler([&](detail::SchedulerImpl& s) {
    s.for_each_task([&](detail::TaskRecord* r) {
      out.emplace_back();
      detail::copy_record(*r, now, out.back());
    });
  });
  std::unordered_map<const void*, std::string> names;
  for (TaskInfo& t : out) {
    for (Frame& f : t.chain) {
      auto [it, added] = names.try_emplace(f.function);
      if (added) it->second = f.function != nullptr ? symbolize(f.function) : "?";
      f.name = it->second;
    }
  }
#endif
  return out;
}

void bind_context(const Context& ctx) {
#if COGO_TASK_REGISTRY
  detail::TaskRecord* r = detail::tls_runtime.task;
  if (r == nullptr) return;
  detail::Node* n = ctx.node();
  n->add_ref();
  void* old = nullptr;
  {
    auto* shard = static_cast<detail::RegistryShard*>(r->registry_shard);
    detail::LockGuard g(shard->mu);
    old = std::exchange(r->context, n);
  }
  if (old != nullptr) static_cast<detail::Node*>(old)->release();
#else
  (void)ctx;
#endif
}

}  // namespace diag
}  // namespace cogo
