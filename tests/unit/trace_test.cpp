// The execution trace, as Chrome trace-event JSON.
#include "cogo/diag/trace.hpp"

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
