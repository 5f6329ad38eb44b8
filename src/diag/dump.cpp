// dump_tasks: level 1 (grouped, with counts) and level 2 (each task, Go-style).
#include <algorithm>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <unordered_map>

#include "cogo/detail/format.hpp"
#include "cogo/detail/stall.hpp"
#include "cogo/diag/tasks.hpp"

namespace cogo::diag {
namespace {

std::string site_text(const source_location& s) {
  std::string out;
  detail::append_site(out, s);
  return out;
}

const char* state_text(const TaskInfo& t) noexcept {
  switch (t.state) {
    case TaskState::running:
      return "running";
    case TaskState::waiting:
      return t.wait_reason.c_str();
    case TaskState::runnable:
      break;
  }
  return "runnable";
}

// Go's duration form, to the millisecond: "3.2s", "150ms", "0s".
std::string waited_text(std::chrono::nanoseconds d) {
  const std::int64_t ms = d.count() / 1'000'000;
  return detail::go_duration(std::chrono::milliseconds(ms));
}

std::string task_label(std::uint64_t id, const std::string& name) {
  std::string out = "task " + std::to_string(id);
  if (!name.empty()) out += " \"" + name + "\"";
  return out;
}

void dump_level1(std::ostream& os, const std::vector<TaskInfo>& list) {
  std::vector<detail::TaskGroupKey> keys;
  keys.reserve(list.size());
  for (const TaskInfo& t : list) {
    const bool waiting = t.state == TaskState::waiting;
    keys.push_back(detail::TaskGroupKey{state_text(t), waiting ? site_text(t.wait_site) : std::string(),
                                        waiting ? std::string(t.wait_site.function_name()) : std::string(),
                                        site_text(t.start_site), t.start_site.function_name()});
  }
  detail::write_task_groups(os, keys);
}

void dump_level2(std::ostream& os, const std::vector<TaskInfo>& list) {
  std::vector<const TaskInfo*> order;
  order.reserve(list.size());
  std::unordered_map<std::uint64_t, const TaskInfo*> by_id;
  for (const TaskInfo& t : list) {
    order.push_back(&t);
    by_id.emplace(t.id, &t);
  }
  std::sort(order.begin(), order.end(),
            [](const TaskInfo* a, const TaskInfo* b) { return a->id < b->id; });
  for (const TaskInfo* t : order) {
    os << task_label(t->id, t->name) << " [" << state_text(*t);
    if (t->state == TaskState::waiting && !t->wait_detail.empty()) os << ": " << t->wait_detail;
    if (t->state == TaskState::waiting) os << ", " << waited_text(t->waiting_for);
    os << "]:\n";
    // The await chain, innermost first; only the innermost frame's site is known (where
    // it waits).
    if (t->chain_depth > t->chain.size()) {
      os << "  ... " << (t->chain_depth - t->chain.size()) << " inner frames not kept\n";
    }
    for (std::size_t i = t->chain.size(); i-- > 0;) {
      os << "  " << t->chain[i].name << '\n';
      if (i + 1 == t->chain.size() && t->chain_depth == t->chain.size() &&
          t->state == TaskState::waiting) {
        os << "      " << site_text(t->wait_site) << '\n';
      }
    }
    if (t->chain.empty() && t->state == TaskState::waiting) {
      os << "  " << t->wait_site.function_name() << "\n      " << site_text(t->wait_site) << '\n';
    }
    os << "  started by ";
    if (t->parent_id == 0) {
      os << "a thread";
    } else if (auto it = by_id.find(t->parent_id); it != by_id.end()) {
      os << task_label(t->parent_id, it->second->name);
    } else {
      os << "task " << t->parent_id << " (ended)";
    }
    os << " at " << site_text(t->start_site) << '\n';
    if (t->context) os << "  context: " << t->context->describe() << '\n';
    os << '\n';
  }
}

}  // namespace

void dump_tasks(std::ostream& os, const std::vector<TaskInfo>& list, int level) {
  if (level <= 1) {
    dump_level1(os, list);
  } else {
    os << "tasks: total " << list.size() << "\n\n";
    dump_level2(os, list);
  }
  os.flush();
}

void dump_tasks(std::ostream& os, int level) {
  const std::vector<TaskInfo> list = tasks();
  const std::size_t live = num_tasks();
  if (live > list.size()) {
    os << "tasks: " << live - list.size()
       << " running or runnable that have not waited yet are not listed\n";
  }
  dump_tasks(os, list, level);
}

}  // namespace cogo::diag
