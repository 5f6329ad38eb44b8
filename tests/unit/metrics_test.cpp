// Cancel tracing (counts by origin, the hook), the live figures and their Prometheus
// form, and the Chrome trace JSON.
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
#include "cogo/diag/trace.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;

std::uint64_t count_at(int line, const std::string& code) {
  for (const auto& c : cogo::diag::cancel_counts()) {
    if (c.file == __FILE__ && static_cast<int>(c.line) == line && c.code == code) return c.count;
  }
  return 0;
}

TEST(CancelTrace, CancellationsAreCountedByTheirOriginSiteAndCode) {
  auto [root, cancel_root] = cogo::with_cancel(cogo::background());
  std::vector<cogo::Cancelable<cogo::CancelFunc>> children;
  for (int i = 0; i < 10; ++i) children.push_back(cogo::with_cancel(root));
  const int line = __LINE__ + 2;
  const auto before = count_at(line, "canceled");
  cancel_root();  // one origin; its ten children are not counted again
  EXPECT_EQ(count_at(line, "canceled"), before + 1);
  for (int i = 0; i < 3; ++i) {
    auto [c, cancel] = cogo::with_cancel(cogo::background());
    cancel();
  }
  EXPECT_EQ(count_at(__LINE__ - 2, "canceled"), 3u);
}

TEST(CancelTrace, DeadlinesAreCountedAtTheSiteThatSetThem) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope scope(clock);
  const int line = __LINE__ + 1;
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 10ms);
  clock.advance(10ms);
  ASSERT_TRUE(ctx.is_done());
  EXPECT_EQ(count_at(line, "deadline_exceeded"), 1u);
}

TEST(CancelTrace, CountsFromThreadsThatEndedAreKept) {
  int line = 0;
  for (int t = 0; t < 4; ++t) {
    std::thread([&line] {
      for (int i = 0; i < 5; ++i) {
        auto [c, cancel] = cogo::with_cancel(cogo::background());
        line = __LINE__ + 1;
        cancel();
      }
    }).join();
  }
  EXPECT_EQ(count_at(line, "canceled"), 20u);
}

TEST(CancelTrace, TheHookGetsEachCancellationWithItsCauseSiteAndContext) {
  struct Seen {
    std::string err, cause, context;
    int line;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  cogo::diag::on_cancel([&](const cogo::diag::CancelEvent& e) {
    std::lock_guard<std::mutex> g(mu);
    seen.push_back(Seen{e.err.to_string(), e.cause.to_string(), std::string(e.context),
                        static_cast<int>(e.site.line())});
  });
  auto [request, cancel] = cogo::with_cancel_cause(cogo::background());
  auto [child, cancel_child] = cogo::with_cancel(request);
  const int line = __LINE__ + 1;
  cancel(cogo::Error("client disconnected"));
  cogo::diag::on_cancel({});
  cancel_child();  // already done: nothing
  {
    auto [c, cancel_after_removal] = cogo::with_cancel(cogo::background());
    cancel_after_removal();  // no hook any more
  }
  std::lock_guard<std::mutex> g(mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].line, line);
  EXPECT_NE(seen[0].err.find("context canceled"), std::string::npos) << seen[0].err;
  EXPECT_NE(seen[0].cause.find("client disconnected"), std::string::npos) << seen[0].cause;
  EXPECT_NE(seen[0].context.find("context.Background.WithCancel"), std::string::npos) << seen[0].context;
}

// The text exposition format's rules, checked line by line: comments are HELP or TYPE
// with a valid name; TYPE comes once per family, before its samples; a sample is a
// name, optional labels with escaped quoted values, and a number. (A hand-written
// reader: g++ 12 warns falsely inside <regex> under the sanitizers.)
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

// A small JSON reader, enough to check the trace's structure.
struct Json {
  using Object = std::map<std::string, Json>;
  using Array = std::vector<Json>;
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v;
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  Json parse() {
    Json j = value();
    ws();
    if (i_ != s_.size()) throw std::runtime_error("trailing text");
    return j;
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) throw std::runtime_error("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw std::runtime_error(std::string("expected ") + c + " at " + std::to_string(i_));
    ++i_;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= s_.size()) throw std::runtime_error("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) throw std::runtime_error("control character in string");
      if (c == '\\') {
        const char e = s_.at(i_++);
        if (e == 'u') {
          out += static_cast<char>(std::stoi(s_.substr(i_, 4), nullptr, 16));
          i_ += 4;
        } else if (std::string("\"\\/bfnrt").find(e) != std::string::npos) {
          out += e;
        } else {
          throw std::runtime_error("bad escape");
        }
      } else {
        out += c;
      }
    }
  }
  Json value() {
    const char c = peek();
    if (c == '{') {
      ++i_;
      Json::Object o;
      if (peek() == '}') {
        ++i_;
        return Json{o};
      }
      while (true) {
        std::string k = string();
        expect(':');
        o[k] = value();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        return Json{o};
      }
    }
    if (c == '[') {
      ++i_;
      Json::Array a;
      if (peek() == ']') {
        ++i_;
        return Json{a};
      }
      while (true) {
        a.push_back(value());
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect(']');
        return Json{a};
      }
    }
    if (c == '"') return Json{string()};
    if (s_.compare(i_, 4, "true") == 0) {
      i_ += 4;
      return Json{true};
    }
    if (s_.compare(i_, 5, "false") == 0) {
      i_ += 5;
      return Json{false};
    }
    if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
      return Json{nullptr};
    }
    std::size_t used = 0;
    const double d = std::stod(s_.substr(i_, 40), &used);
    if (used == 0) throw std::runtime_error("bad value");
    i_ += used;
    return Json{d};
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

TEST(Trace, TheChromeTraceIsValidJsonWithBalancedBeginsAndEnds) {
  cogo::Scheduler sched(cogo::SchedulerOptions{.workers = 2});
  cogo::diag::trace::start();
  EXPECT_TRUE(cogo::diag::trace::recording());
  auto ch = cogo::make_chan<int>();
  sched.go("pinger \"quoted\"", [](cogo::Chan<int> c) -> Task<> {
    for (int i = 0; i < 100; ++i) (void)co_await c.send(i);
    c.close();
  }(ch));
  sched.block_on([](cogo::Chan<int> c) -> Task<> {
    while (true) {
      auto v = co_await c.recv();
      if (!v) break;
    }
  }(ch));
  {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    cancel();
  }
  cogo::diag::trace::stop();
  EXPECT_FALSE(cogo::diag::trace::recording());
  ASSERT_GT(cogo::diag::trace::event_count(), 100u);
  std::ostringstream os;
  cogo::diag::trace::write_json(os);
  Json doc;
  ASSERT_NO_THROW(doc = JsonReader(os.str()).parse()) << os.str().substr(0, 2000);
  const auto& root = std::get<Json::Object>(doc.v);
  const auto& events = std::get<Json::Array>(root.at("traceEvents").v);
  std::map<double, int> depth;  // per tid: open begins
  int begins = 0, cancels = 0, starts = 0;
  for (const Json& e : events) {
    const auto& o = std::get<Json::Object>(e.v);
    ASSERT_EQ(o.count("ph"), 1u);
    ASSERT_EQ(o.count("ts"), 1u);
    ASSERT_EQ(o.count("pid"), 1u);
    ASSERT_EQ(o.count("tid"), 1u);
    const std::string ph = std::get<std::string>(o.at("ph").v);
    const double tid = std::get<double>(o.at("tid").v);
    EXPECT_GE(std::get<double>(o.at("ts").v), 0.0);
    if (ph == "B") {
      ++begins;
      EXPECT_EQ(depth[tid], 0) << "a thread runs one task at a time";
      ++depth[tid];
    } else if (ph == "E") {
      ASSERT_EQ(depth[tid], 1) << "an end without its begin";
      --depth[tid];
    } else if (ph == "i") {
      const std::string name = std::get<std::string>(o.at("name").v);
      cancels += name == "context canceled" ? 1 : 0;
      starts += name.rfind("start task", 0) == 0 ? 1 : 0;
    } else {
      EXPECT_EQ(ph, "M");
    }
  }
  for (const auto& [tid, d] : depth) EXPECT_EQ(d, 0) << "tid " << tid << " left a begin open";
  EXPECT_GE(begins, 2);
  EXPECT_GE(cancels, 1);
  EXPECT_GE(starts, 2);
  EXPECT_NE(os.str().find("pinger \\\"quoted\\\""), std::string::npos);
}

}  // namespace
