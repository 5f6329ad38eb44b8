// Stall reports, and the level-1 grouping they share with diag::dump_tasks.
#include "cogo/detail/stall.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <tuple>

#include "cogo/detail/format.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/scheduler.hpp"

namespace cogo {
namespace detail {

namespace {

constexpr std::int64_t kDefaultStallNs = 10'000'000'000;
constexpr std::int64_t kCheckEveryNs = 100'000'000;

std::int64_t from_environment() noexcept {
  const char* v = std::getenv("COGO_STALL_REPORT_MS");
  if (v == nullptr || *v == '\0') return kDefaultStallNs;
  char* end = nullptr;
  const long long ms = std::strtoll(v, &end, 10);
  if (end == v || ms < 0) return kDefaultStallNs;
  return ms > INT64_MAX / 1'000'000 ? INT64_MAX : static_cast<std::int64_t>(ms) * 1'000'000;
}

std::atomic<std::int64_t>& threshold() noexcept {
  static std::atomic<std::int64_t> t{from_environment()};
  return t;
}

std::string site_text(const source_location& s) {
  std::string out;
  append_site(out, s);
  return out;
}

// Calls f for every live scheduler, and for `also` if it is not among them.
template <class F>
void each_scheduler(SchedulerImpl* also, F&& f) {
  bool seen = also == nullptr;
  for_each_scheduler([&](SchedulerImpl& s) {
    seen = seen || &s == also;
    f(s);
  });
  if (!seen) f(*also);
}

std::uint64_t progress(SchedulerImpl* also) noexcept {
  std::uint64_t n = 0;
  each_scheduler(also, [&](SchedulerImpl& s) { n += s.ticks(); });
  return n;
}

std::size_t live_tasks(SchedulerImpl* also) noexcept {
  std::size_t n = 0;
  each_scheduler(also, [&](SchedulerImpl& s) { n += s.live_tasks(); });
  return n;
}

}  // namespace

bool operator<(const TaskGroupKey& a, const TaskGroupKey& b) noexcept {
  return std::tie(a.what, a.wait_site, a.wait_function, a.start_site, a.start_function) <
         std::tie(b.what, b.wait_site, b.wait_function, b.start_site, b.start_function);
}

void write_task_groups(std::ostream& os, const std::vector<TaskGroupKey>& keys) {
  std::map<TaskGroupKey, std::size_t> groups;
  for (const TaskGroupKey& k : keys) groups[k]++;
  std::vector<std::pair<const TaskGroupKey*, std::size_t>> order;
  order.reserve(groups.size());
  for (const auto& [k, n] : groups) order.emplace_back(&k, n);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  os << "tasks: total " << keys.size() << '\n';
  for (const auto& [k, n] : order) {
    os << n << " [" << k->what << "]\n";
    if (!k->wait_site.empty()) os << "#\twaiting at " << k->wait_site << " in " << k->wait_function << '\n';
    os << "#\tstarted at " << k->start_site << " in " << k->start_function << '\n';
    os << '\n';
  }
}

std::int64_t stall_report_ns() noexcept { return threshold().load(std::memory_order_relaxed); }

StallWatch::StallWatch(const char* what, const source_location& site, SchedulerImpl* also) noexcept
    : what_(what), site_(site), also_(also), since_(monotonic_ns()), progress_(progress(also)) {}

std::int64_t StallWatch::next_check() noexcept { return monotonic_ns() + kCheckEveryNs; }

void StallWatch::check() noexcept {
  if (reported_) return;
  const std::int64_t limit = stall_report_ns();
  if (limit <= 0) return;
  const std::int64_t now = monotonic_ns();
  const std::uint64_t p = progress(also_);
  if (p != progress_) {
    progress_ = p;
    since_ = now;
    return;
  }
  const std::size_t live = live_tasks(also_);
  if (now - since_ < limit || live == 0) return;
  reported_ = true;
  try {
    std::vector<TaskGroupKey> keys;
#if COGO_TASK_REGISTRY
    each_scheduler(also_, [&](SchedulerImpl& s) {
      s.for_each_task([&](TaskRecord* r) {
        TaskRecord::Reading rd;
        r->read(rd);
        TaskGroupKey k;
        if (rd.state == static_cast<std::uint8_t>(TaskState::waiting)) {
          k.what = wait_reason_text(static_cast<WaitReason>(rd.reason));
          k.wait_site = site_text(rd.wait_site);
          k.wait_function = rd.wait_site.function_name();
        } else {
          k.what = rd.state == static_cast<std::uint8_t>(TaskState::running) ? "running" : "runnable";
        }
        k.start_site = site_text(r->start_site);
        k.start_function = r->start_site.function_name();
        keys.push_back(std::move(k));
      });
    });
#endif
    std::ostringstream os;
    std::string waited;
    append_go_duration(waited, now - since_);
    os << "cogo: " << what_ << " at " << site_text(site_) << " has waited " << waited
       << " with " << live << " task(s) live and none making progress";
    if (keys.empty()) {
      os << " (the task registry lists none: they have not waited yet, or it is compiled out)\n";
    } else {
      os << "; they wait for:\n";
      write_task_groups(os, keys);
    }
    const std::string text = os.str();
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  } catch (...) {
    // Out of memory: no report.
  }
}

}  // namespace detail

void set_stall_report_after(std::chrono::milliseconds d) noexcept {
  const auto ms = d.count();
  const std::int64_t ns = ms <= 0 ? 0 : (ms > INT64_MAX / 1'000'000 ? INT64_MAX : ms * 1'000'000);
  detail::threshold().store(ns, std::memory_order_relaxed);
}

}  // namespace cogo
