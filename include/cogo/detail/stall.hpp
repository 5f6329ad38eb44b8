// Stall reports: a blocking wait that makes no progress says what it waits for. Internal.
//
// A Scheduler destructor, block_on() or sync_wait() that has waited for
// stall_report_ns() with tasks parked and no task or callback run anywhere prints, once,
// a level-1 dump of the tasks (grouped by what they wait on, where, and where they were
// started) to stderr. Nothing is cancelled or killed.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "cogo/detail/config.hpp"

namespace cogo::detail {

// One group line of a level-1 dump (Go's goroutine?debug=1): what the tasks do ("chan
// receive", "runnable"), where they wait and where they were started.
struct TaskGroupKey {
  std::string what;
  std::string wait_site;  // empty unless waiting
  std::string wait_function;
  std::string start_site;
  std::string start_function;
  friend bool operator<(const TaskGroupKey& a, const TaskGroupKey& b) noexcept;
};
// Writes the groups of `keys` (one key per task), largest first.
void write_task_groups(std::ostream& os, const std::vector<TaskGroupKey>& keys);

// The threshold in nanoseconds (0: reports are off): set_stall_report_after(), else the
// environment's COGO_STALL_REPORT_MS, else 10 s.
std::int64_t stall_report_ns() noexcept;

class SchedulerImpl;

class StallWatch {
 public:
  // `what` names the waiting call ("block_on"); `site` is where it was called. `also`: a
  // scheduler to count and list even when it has left the process's list (a destructor
  // draining it).
  StallWatch(const char* what, const source_location& site, SchedulerImpl* also = nullptr) noexcept;
  // Call now and then while waiting (every 100 ms or so is plenty).
  void check() noexcept;
  // The futex deadline for the next check from now.
  static std::int64_t next_check() noexcept;

 private:
  const char* what_;
  source_location site_;
  SchedulerImpl* also_;
  std::int64_t since_;        // when progress was last seen
  std::uint64_t progress_;    // items run over all schedulers then
  bool reported_ = false;
};

}  // namespace cogo::detail
