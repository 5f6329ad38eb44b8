// The live figures and their Prometheus text form, checked against the format's rules.
#include "cogo/diag/metrics.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/diag.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Reads a metric or label name at `i`; empty if there is none.
std::string read_name(const std::string& l, std::size_t& i, bool label) {
  const std::size_t start = i;
  while (i < l.size() && name_char(l[i], i == start) && !(label && l[i] == ':')) ++i;
  return l.substr(start, i - start);
}

// Returns the family name of a valid sample line, or "" for an invalid one.
std::string sample_name(const std::string& l) {
  std::size_t i = 0;
  std::string name = read_name(l, i, false);
  if (name.empty()) return "";
  if (i < l.size() && l[i] == '{') {
    ++i;
    while (true) {
      if (read_name(l, i, true).empty()) return "";
      if (l.compare(i, 2, "=\"") != 0) return "";
      i += 2;
      while (i < l.size() && l[i] != '"') {
        if (l[i] == '\n') return "";
        if (l[i] == '\\') {
          if (i + 1 >= l.size() || std::string("\\\"n").find(l[i + 1]) == std::string::npos) return "";
          ++i;
        }
        ++i;
      }
      if (i >= l.size()) return "";
      ++i;  // the closing quote
      if (i < l.size() && l[i] == ',') {
        ++i;
        continue;
      }
      if (i < l.size() && l[i] == '}') {
        ++i;
        break;
      }
      return "";
    }
  }
  if (i >= l.size() || l[i] != ' ') return "";
  const std::string value = l.substr(i + 1);
  if (value.empty()) return "";
  std::size_t used = 0;
  try {
    (void)std::stod(value, &used);
  } catch (...) {
    return "";
  }
  return used == value.size() ? name : "";
}

void check_prometheus(const std::string& text, std::set<std::string>& families) {
  static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0 || line.rfind("# HELP ", 0) == 0) {
      std::size_t i = 7;
      const std::string name = read_name(line, i, false);
      ASSERT_FALSE(name.empty()) << line;
      ASSERT_LT(i, line.size()) << line;
      ASSERT_EQ(line[i], ' ') << line;
      if (line[2] == 'T') {
        EXPECT_EQ(types.count(name), 0u) << "TYPE twice: " << line;
        EXPECT_EQ(kTypes.count(line.substr(i + 1)), 1u) << line;
        types[name] = line.substr(i + 1);
      }
      continue;
    }
    ASSERT_NE(line.rfind("#", 0), 0u) << "a comment other than HELP or TYPE: " << line;
    const std::string name = sample_name(line);
    ASSERT_FALSE(name.empty()) << "bad sample: " << line;
    EXPECT_EQ(types.count(name), 1u) << "sample before its TYPE: " << line;
    if (types[name] == "counter") {
      EXPECT_EQ(name.substr(name.size() - 6), "_total") << line;
    }
    families.insert(name);
  }
}

TEST(Metrics, TheSnapshotCountsTasksTimersContextsAndCancellations) {
  cogo::Scheduler sched(cogo::SchedulerOptions{.workers = 2});
  const cogo::diag::Snapshot before = cogo::diag::snapshot();
  auto never = cogo::make_chan<int>();
  for (int i = 0; i < 3; ++i) {
    sched.go([](cogo::Chan<int> c) -> Task<> {
      auto v = co_await c.recv();
      (void)v;
    }(never));
  }
  auto kept = sched.block_on([]() -> Task<cogo::Cancelable<cogo::CancelFunc>> {
    co_return cogo::with_timeout(cogo::background(), 1h);  // armed on `sched`'s clock
  }());
  // The block_on task counts as ended a moment after block_on returns.
  cogo::diag::Snapshot s;
  ASSERT_TRUE(cogo::test::eventually([&] {
    s = cogo::diag::snapshot();
    return s.tasks_live == before.tasks_live + 3;
  }));
  EXPECT_EQ(s.tasks_live, before.tasks_live + 3);
  EXPECT_GE(s.tasks_started, before.tasks_started + 4);  // with the block_on
  EXPECT_EQ(s.tasks_started - s.tasks_finished, s.tasks_live);
  EXPECT_EQ(s.timers_armed, before.timers_armed + 1);
  EXPECT_GE(s.contexts_live, before.contexts_live + 1);
  never.close();
  const int cancel_line = __LINE__ + 1;
  kept.cancel();
  ASSERT_TRUE(cogo::test::eventually([&] { return cogo::num_tasks() == before.tasks_live; }));
  const cogo::diag::Snapshot after = cogo::diag::snapshot();
  EXPECT_EQ(after.timers_armed, before.timers_armed);
  EXPECT_EQ(after.tasks_finished, s.tasks_finished + 3);
  bool found = false;
  for (const auto& c : after.cancellations) found = found || (c.file == __FILE__ && static_cast<int>(c.line) == cancel_line);
  EXPECT_TRUE(found);
}

TEST(Metrics, TheFormatCheckerRejectsWhatTheFormatForbids) {
  EXPECT_EQ(sample_name("cogo_x 1"), "cogo_x");
  EXPECT_EQ(sample_name("cogo_x{a=\"b\\\"c\"} 2.5"), "cogo_x");
  EXPECT_EQ(sample_name("1cogo 1"), "");
  EXPECT_EQ(sample_name("cogo x 1"), "");
  EXPECT_EQ(sample_name("cogo_x{a=\"b\"c\"} 1"), "");   // an unescaped quote
  EXPECT_EQ(sample_name("cogo_x{a=\"b\\q\"} 1"), "");  // an unknown escape
  EXPECT_EQ(sample_name("cogo_x{a:b=\"c\"} 1"), "");     // ':' in a label name
  EXPECT_EQ(sample_name("cogo_x 1x"), "");
}

TEST(Metrics, WritePrometheusFollowsTheTextFormat) {
  {
    auto [c, cancel] = cogo::with_cancel(cogo::background());
    cancel();
  }
  std::ostringstream os;
  cogo::diag::write_prometheus(os);
  std::set<std::string> families;
  check_prometheus(os.str(), families);
  for (const char* f : {"cogo_tasks_live", "cogo_tasks_started_total", "cogo_tasks_finished_total",
                        "cogo_timers_armed", "cogo_contexts_live", "cogo_cancellations_total",
                        "cogo_scheduler_steals_total", "cogo_scheduler_parks_total"}) {
    EXPECT_EQ(families.count(f), 1u) << f << "\n" << os.str();
  }
  // Label values are escaped: a site whose function name holds quotes and backslashes.
  cogo::diag::Snapshot s;
  s.cancellations.push_back(cogo::diag::CancelCount{"a\"b\\c.cpp", 7, "f(\"x\")\n", "canceled", 2});
  std::ostringstream odd;
  cogo::diag::write_prometheus(odd, s);
  families.clear();
  check_prometheus(odd.str(), families);
  EXPECT_NE(odd.str().find("site=\"a\\\"b\\\\c.cpp:7\",function=\"f(\\\"x\\\")\\n\"} 2"),
            std::string::npos)
      << odd.str();
}

}  // namespace
