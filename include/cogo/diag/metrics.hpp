// Live figures: a snapshot of the runtime's counters, and Prometheus text output
//
// snapshot() sums, over every scheduler live or gone: tasks live, started and finished;
// timers armed on the schedulers' clocks; context nodes live; cancellations by (site,
// code) (see cogo/cancel_trace.hpp); and the workers' steals and parks.
// write_prometheus() writes a snapshot in the Prometheus text exposition format
// (version 0.0.4), every metric with its # HELP and # TYPE lines, names prefixed
// `cogo_`.
//
// Thread safety: both may be called from any thread at any time. The figures are read
// one after another, not at one instant, so they may disagree by a few in-flight
// events (a task counted started and not yet live, for instance).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "cogo/diag/cancel_trace.hpp"

namespace cogo::diag {

// A gauge an adapter registered (cogo::asio: sockets open, operations pending).
struct Gauge {
  std::string name;  // after cogo_
  std::string help;
  std::int64_t value = 0;
};

struct Snapshot {
  std::uint64_t tasks_live = 0;
  std::uint64_t tasks_started = 0;
  std::uint64_t tasks_finished = 0;
  std::uint64_t timers_armed = 0;
  std::int64_t contexts_live = 0;
  std::vector<CancelCount> cancellations;
  std::uint64_t steals = 0;
  std::uint64_t parks = 0;
  std::vector<Gauge> gauges;  // the adapters' figures
};

Snapshot snapshot();

void write_prometheus(std::ostream& os, const Snapshot& s);
void write_prometheus(std::ostream& os);

}  // namespace cogo::diag
