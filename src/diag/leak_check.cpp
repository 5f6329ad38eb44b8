// find_leaks: tasks from the registry, armed timers from every scheduler's timer
// service, and pending cancelable contexts from the tracking list.
#include "cogo/diag/leak_check.hpp"

#include <algorithm>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/deadline_node.hpp"
#include "cogo/detail/format.hpp"
#include "cogo/detail/resources.hpp"
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/detail/timer_cases.hpp"
#include "cogo/detail/timer_state.hpp"

namespace cogo {
namespace leaks {
namespace {

using detail::TimerEntry;

struct TimerSeen {
  const void* entry;
  LeakedTimer info;
};

std::vector<TimerSeen> armed_timers() {
  std::vector<TimerSeen> out;
  detail::for_each_timer_service([&](detail::TimerService& svc) {
    const std::int64_t now = svc.now();
    svc.for_each_armed([&](const TimerEntry* e, std::int64_t when) {
      LeakedTimer t;
      switch (e->kind) {
        case detail::TimerKind::deadline:
          t.kind = "context deadline";
          t.site = detail::DeadlineNode::of(e)->site();
          break;
        case detail::TimerKind::timer:
          t.kind = "timer";
          t.site = static_cast<const detail::TimerState*>(e)->site();
          break;
        case detail::TimerKind::after:
          t.kind = "after";
          t.site = detail::AfterCase::site_of(e);
          break;
      }
      t.due_in = std::chrono::nanoseconds(when - now);
      out.push_back(TimerSeen{e, std::move(t)});
    });
  });
  return out;
}

struct ContextSeen {
  const void* node;
  LeakedContext info;
};

std::vector<ContextSeen> pending_contexts() {
  std::vector<ContextSeen> out;
  detail::for_each_tracked_context(
      [](detail::CancelNode* n, void* arg) {
        static_cast<std::vector<ContextSeen>*>(arg)->push_back(
            ContextSeen{n, LeakedContext{n->site(), detail::describe(n)}});
      },
      &out);
  return out;
}

struct ResourceSeen {
  const void* id;
  LeakedResource info;
};

std::vector<ResourceSeen> live_resources() {
  std::vector<ResourceSeen> out;
  detail::for_each_resource_kind(
      [](const detail::ResourceKind& kind, void* arg) {
        if (kind.for_each == nullptr) return;
        struct Ctx {
          std::vector<ResourceSeen>* out;
          const char* what;
        } ctx{static_cast<std::vector<ResourceSeen>*>(arg), kind.what};
        kind.for_each(
            [](const void* id, const source_location& site, const std::string& description, void* a) {
              auto* c = static_cast<Ctx*>(a);
              c->out->push_back(ResourceSeen{id, LeakedResource{c->what, site, description}});
            },
            &ctx);
      },
      &out);
  return out;
}

bool ignored(const diag::TaskInfo& t, const std::vector<std::string>& functions) {
  const std::string_view fn = t.start_site.function_name();
  return std::any_of(functions.begin(), functions.end(),
                     [&](const std::string& s) { return fn.find(s) != std::string_view::npos; });
}

}  // namespace

Options& Options::ignore_function(std::string substring) {
  ignored_functions_.push_back(std::move(substring));
  return *this;
}

Options& Options::ignore_current() {
  track_contexts(true);
  const std::vector<diag::TaskInfo> listed = diag::tasks();
  const std::size_t live = num_tasks();
  ignored_unlisted_ = live > listed.size() ? live - listed.size() : 0;
  for (const diag::TaskInfo& t : listed) ignored_tasks_.insert(t.id);
  for (const TimerSeen& t : armed_timers()) ignored_timers_.insert(t.entry);
  for (const ContextSeen& c : pending_contexts()) ignored_contexts_.insert(c.node);
  for (const ResourceSeen& r : live_resources()) ignored_resources_.insert(r.id);
  return *this;
}

Options& Options::timeout(std::chrono::milliseconds t) noexcept {
  timeout_ = t;
  return *this;
}

Report find_leaks(const Options& options) {
  const auto give_up = std::chrono::steady_clock::now() + options.timeout_;
  auto pause = std::chrono::microseconds(500);
  for (;;) {
    Report r;
    std::vector<diag::TaskInfo> listed = diag::tasks();
    const std::size_t live = num_tasks();
    const std::size_t unlisted = live > listed.size() ? live - listed.size() : 0;
    r.unlisted_tasks = unlisted > options.ignored_unlisted_ ? unlisted - options.ignored_unlisted_ : 0;
    for (diag::TaskInfo& t : listed) {
      if (options.ignored_tasks_.count(t.id) != 0) continue;
      if (ignored(t, options.ignored_functions_)) continue;
      r.tasks.push_back(std::move(t));
    }
    for (TimerSeen& t : armed_timers()) {
      if (options.ignored_timers_.count(t.entry) == 0) r.timers.push_back(std::move(t.info));
    }
    for (ContextSeen& c : pending_contexts()) {
      if (options.ignored_contexts_.count(c.node) == 0) r.contexts.push_back(std::move(c.info));
    }
    for (ResourceSeen& res : live_resources()) {
      if (options.ignored_resources_.count(res.id) == 0) r.resources.push_back(std::move(res.info));
    }
    if (r.empty() || std::chrono::steady_clock::now() >= give_up) return r;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(50));
  }
}

bool track_contexts(bool on) noexcept {
  return detail::g_track_contexts.exchange(on, std::memory_order_relaxed);
}

std::string Report::describe() const {
  std::ostringstream os;
  auto site = [](const source_location& s) {
    std::string out;
    detail::append_site(out, s);
    return out;
  };
  if (!tasks.empty()) os << tasks.size() << " task(s) leaked\n";
  if (unlisted_tasks != 0) {
    os << unlisted_tasks << " task(s) still running or runnable that never waited (not listed)\n";
  }
  for (const LeakedTimer& t : timers) {
    os << "timer leaked: " << t.kind << " made at " << site(t.site) << " in "
       << t.site.function_name() << ", due in " << detail::go_duration(t.due_in) << '\n';
  }
  for (const LeakedContext& c : contexts) {
    os << "context leaked: " << c.description << ", made at " << site(c.site) << " in "
       << c.site.function_name() << ", never cancelled\n";
  }
  for (const LeakedResource& res : resources) {
    os << res.what << " leaked: " << res.description << ", made at " << site(res.site) << " in "
       << res.site.function_name() << '\n';
  }
  if (!tasks.empty()) {
    os << '\n';
    diag::dump_tasks(os, tasks, 2);
  }
  return os.str();
}

}  // namespace leaks
}  // namespace cogo
