// Cancel tracing: counts by origin, and the hook.
#include "cogo/diag/cancel_trace.hpp"

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
}  // namespace
