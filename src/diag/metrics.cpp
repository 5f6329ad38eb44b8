// diag::snapshot() and its Prometheus text form.
#include "cogo/diag/metrics.hpp"

#include <ostream>
#include <string>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/resources.hpp"
#include "cogo/detail/scheduler_impl.hpp"

namespace cogo::diag {
namespace {

// A label value with the three escapes the format defines: backslash, quote, newline.
std::string label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void metric(std::ostream& os, const char* name, const char* type, const char* help,
            std::int64_t value) {
  os << "# HELP " << name << ' ' << help << '\n'
     << "# TYPE " << name << ' ' << type << '\n'
     << name << ' ' << value << '\n';
}

}  // namespace

Snapshot snapshot() {
  Snapshot s;
  const detail::SchedulerTotals t = detail::scheduler_totals();
  s.tasks_started = t.started;
  s.tasks_finished = t.ended;
  s.tasks_live = t.started - t.ended;
  s.steals = t.steals;
  s.parks = t.parks;
  detail::for_each_timer_service([&](detail::TimerService& svc) { s.timers_armed += svc.armed(); });
  s.contexts_live = detail::live_contexts();
  s.cancellations = cancel_counts();
  detail::for_each_resource_kind(
      [](const detail::ResourceKind& k, void* arg) {
        static_cast<Snapshot*>(arg)->gauges.push_back(Gauge{k.metric, k.help, k.count()});
      },
      &s);
  return s;
}

void write_prometheus(std::ostream& os, const Snapshot& s) {
  metric(os, "cogo_tasks_live", "gauge", "Tasks started with go() and not yet finished.",
         static_cast<std::int64_t>(s.tasks_live));
  metric(os, "cogo_tasks_started_total", "counter", "Tasks started with go().",
         static_cast<std::int64_t>(s.tasks_started));
  metric(os, "cogo_tasks_finished_total", "counter", "Tasks that have finished.",
         static_cast<std::int64_t>(s.tasks_finished));
  metric(os, "cogo_timers_armed", "gauge", "Timers armed on the schedulers' clocks.",
         static_cast<std::int64_t>(s.timers_armed));
  metric(os, "cogo_contexts_live", "gauge", "Context nodes alive.", s.contexts_live);
  metric(os, "cogo_scheduler_steals_total", "counter", "Tasks workers took from other workers.",
         static_cast<std::int64_t>(s.steals));
  metric(os, "cogo_scheduler_parks_total", "counter", "Times a worker went to sleep.",
         static_cast<std::int64_t>(s.parks));
  for (const Gauge& g : s.gauges) {
    metric(os, ("cogo_" + g.name).c_str(), "gauge", g.help.c_str(), g.value);
  }
  os << "# HELP cogo_cancellations_total Context cancellations by origin: the site that "
        "cancelled or set the deadline, and the code.\n"
     << "# TYPE cogo_cancellations_total counter\n";
  for (const CancelCount& c : s.cancellations) {
    os << "cogo_cancellations_total{code=\"" << c.code << "\",site=\""
       << label_value(c.file + ":" + std::to_string(c.line)) << "\",function=\""
       << label_value(c.function) << "\"} " << c.count << '\n';
  }
}

void write_prometheus(std::ostream& os) { write_prometheus(os, snapshot()); }

}  // namespace cogo::diag
