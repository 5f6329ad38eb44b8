// The extremes of every context function that takes a duration or a time point: the
// largest and smallest values, zero, negatives, infinities and NaN. None may overflow
// (UBSan runs these), a deadline in the past is born done, and the latest deadline is
// reported as a deadline but never fires.
#include "cogo/context.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "cogo/custom_context.hpp"
#include "cogo/manual_clock.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Context;
using clk = Context::clock;
using std::chrono::hours;
using std::chrono::nanoseconds;
using fsec = std::chrono::duration<double>;

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::nan("");

// The year in a description's WithDeadline(...), and the year the steady time `t`
// falls in by the wall clock now, computed independently in floating point.
int printed_year(const std::string& describe) {
  const auto at = describe.find("WithDeadline(");
  return at == std::string::npos ? 0 : std::stoi(describe.substr(at + 13));
}
// The whole hours of the time left that a description prints after the date.
long printed_hours(const std::string& describe) {
  const auto at = describe.find("UTC [");
  return at == std::string::npos ? 0 : std::stol(describe.substr(at + 5));
}
int expected_year(clk::time_point t) {
  const long double wall_ns =
      static_cast<long double>(std::chrono::system_clock::now().time_since_epoch() / 1ns) +
      (static_cast<long double>(t.time_since_epoch() / 1ns) -
       static_cast<long double>(clk::now().time_since_epoch() / 1ns));
  return static_cast<int>(std::floor(1970 + wall_ns / 1e9L / 31556952.0L));
}

TEST(ContextLimitsTest, TheLargestTimeoutsReportTheLatestDeadline) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  auto a = cogo::with_timeout(cogo::background(), nanoseconds::max());
  auto b = cogo::with_timeout(cogo::background(), hours::max());
  auto c = cogo::with_timeout(cogo::background(), fsec(kInf));
  auto d = cogo::with_timeout(cogo::background(), hours::max(), cogo::Error("why"));
  auto e = cogo::with_timeout(cogo::background(),
                              std::chrono::duration<unsigned long long, std::nano>(~0ULL));
  for (const Context* ctx : {&a.ctx, &b.ctx, &c.ctx, &d.ctx, &e.ctx}) {
    ASSERT_TRUE(ctx->deadline().has_value()) << ctx->describe();
    EXPECT_EQ(*ctx->deadline(), clk::time_point::max());
    EXPECT_EQ(ctx->describe().rfind("context.Background.WithDeadline(", 0), 0u) << ctx->describe();
  }
  EXPECT_EQ(clock.armed_timers(), 0u);  // a time never reached needs no timer
  clock.advance(hours::max());
  EXPECT_EQ(clock.now(), clk::time_point::max() - 1ns);  // time stops short of the end
  for (const Context* ctx : {&a.ctx, &b.ctx, &c.ctx, &d.ctx}) EXPECT_FALSE(ctx->is_done());
  b.cancel();
  EXPECT_EQ(b.ctx.err(), cogo::errc::canceled);
}

TEST(ContextLimitsTest, ADeadlineAtTimePointMaxIsReportedAndNeverFires) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  auto [ctx, cancel] = cogo::with_deadline(cogo::background(), clk::time_point::max());
  auto [caused, cancel2] =
      cogo::with_deadline(cogo::background(), clk::time_point::max(), cogo::Error("why"));
  auto [child, cancel3] = cogo::with_cancel(ctx);
  auto [sooner, cancel4] = cogo::with_timeout(ctx, 1h);
  EXPECT_EQ(ctx.deadline(), clk::time_point::max());
  EXPECT_EQ(caused.deadline(), clk::time_point::max());
  EXPECT_EQ(child.deadline(), clk::time_point::max());  // inherited, still a deadline
  EXPECT_EQ(sooner.deadline(), clock.now() + 1h);
  EXPECT_EQ(clock.armed_timers(), 1u);  // only the hour
  clock.advance_to(clk::time_point::max());
  EXPECT_TRUE(sooner.is_done());
  EXPECT_FALSE(ctx.is_done());
  EXPECT_FALSE(caused.is_done());
  EXPECT_FALSE(child.is_done());
  // At the last instant, a deadline at the end is still not due.
  auto [late, cancel5] = cogo::with_deadline(cogo::background(), clk::time_point::max());
  EXPECT_FALSE(late.is_done());
  EXPECT_EQ(late.deadline(), clk::time_point::max());
}

TEST(ContextLimitsTest, TheSmallestDeadlinesAreBornDone) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  const auto now = clock.now();
  auto a = cogo::with_deadline(cogo::background(), clk::time_point::min());
  auto b = cogo::with_deadline(cogo::background(), clk::time_point::min(), cogo::Error("why"));
  auto c = cogo::with_deadline(cogo::background(), clk::time_point{});
  auto d = cogo::with_timeout(cogo::background(), nanoseconds::min());
  auto e = cogo::with_timeout(cogo::background(), hours::min(), cogo::Error("why"));
  auto f = cogo::with_timeout(cogo::background(), fsec(-kInf));
  auto g = cogo::with_timeout(cogo::background(), 0s);
  auto h = cogo::with_timeout(cogo::background(), -1s);
  for (const auto* r : {&a, &b, &c, &d, &e, &f, &g, &h}) {
    ASSERT_TRUE(r->ctx.is_done()) << r->ctx.describe();
    EXPECT_TRUE(r->ctx.err().is_timeout());
    EXPECT_TRUE(r->ctx.deadline().has_value());
  }
  EXPECT_EQ(clock.armed_timers(), 0u);
  // As in Go, a timeout's deadline is now + timeout, in the past for a negative one.
  EXPECT_EQ(a.ctx.deadline(), clk::time_point::min());
  EXPECT_EQ(c.ctx.deadline(), clk::time_point{});
  EXPECT_EQ(d.ctx.deadline(), now + nanoseconds::min());
  EXPECT_EQ(e.ctx.deadline(), now + nanoseconds::min());
  EXPECT_EQ(g.ctx.deadline(), now);
  EXPECT_EQ(h.ctx.deadline(), now - 1s);
  EXPECT_TRUE(cogo::cause(b.ctx).is(cogo::errc::deadline_exceeded));
  EXPECT_EQ(cogo::cause(b.ctx).cause().message(), "why");
  EXPECT_EQ(cogo::cause(e.ctx).cause().message(), "why");
  // The length in the error is the deadline's distance from now, without overflowing.
  const std::string msg = a.ctx.err().to_string();
  EXPECT_NE(msg.find(", -2562047h"), std::string::npos) << msg;
  EXPECT_NE(h.ctx.err().to_string().find(", -1s)"), std::string::npos) << h.ctx.err().to_string();
}

TEST(ContextLimitsTest, ANaNTimeoutIsRejected) {
  EXPECT_THROW((void)cogo::with_timeout(cogo::background(), fsec(kNaN)), std::invalid_argument);
  EXPECT_THROW((void)cogo::with_timeout(cogo::background(), fsec(kNaN), cogo::Error("why")),
               std::invalid_argument);
}

TEST(ContextLimitsTest, FractionalTimeoutsRoundUp) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  auto [ctx, cancel] =
      cogo::with_timeout(cogo::background(), std::chrono::duration<double, std::nano>(1.25));
  EXPECT_EQ(ctx.deadline(), clock.now() + 2ns);
  auto [pico, cancel2] =
      cogo::with_timeout(cogo::background(), std::chrono::duration<long long, std::pico>(1001));
  EXPECT_EQ(pico.deadline(), clock.now() + 2ns);
}

TEST(ContextLimitsTest, DescriptionsOfExtremeDeadlinesPrintTheirTrueDates) {
  auto [max, c1] = cogo::with_deadline(cogo::background(), clk::time_point::max());
  auto [hrs, c2] = cogo::with_timeout(cogo::background(), hours::max());
  auto [min, c3] = cogo::with_deadline(cogo::background(), clk::time_point::min());
  auto [zero, c4] = cogo::with_deadline(cogo::background(), clk::time_point{});
  auto [neg, c5] = cogo::with_timeout(cogo::background(), -1h);
  auto [soon, c6] = cogo::with_timeout(cogo::background(), 1h);
  struct Want {
    const Context* ctx;
    clk::time_point at;
  };
  const auto now = clk::now();
  for (const Want& w : {Want{&max, clk::time_point::max()}, Want{&hrs, clk::time_point::max()},
                        Want{&min, clk::time_point::min()}, Want{&zero, clk::time_point{}},
                        Want{&neg, now - 1h}, Want{&soon, now + 1h}}) {
    const std::string d = w.ctx->describe();
    EXPECT_EQ(d.rfind("context.Background.WithDeadline(", 0), 0u) << d;
    EXPECT_NEAR(printed_year(d), expected_year(w.at), 1) << d;
    EXPECT_NE(d.find(" +0000 UTC ["), std::string::npos) << d;
  }
  std::ostringstream os;
  os << max;  // the wall date is read afresh each time, so compare what cannot move
  EXPECT_EQ(os.str().rfind("context.Background.WithDeadline(", 0), 0u) << os.str();
  EXPECT_NEAR(printed_year(os.str()), expected_year(clk::time_point::max()), 1) << os.str();
  // Far-future deadlines are centuries away, not in the past; the smallest is long gone.
  EXPECT_GT(printed_hours(max.describe()), 2'500'000) << max.describe();
  EXPECT_GT(printed_hours(hrs.describe()), 2'500'000) << hrs.describe();
  EXPECT_NE(min.describe().find(" [-2562047h47m16.854775808s]"), std::string::npos)
      << min.describe();
  EXPECT_NE(min.describe().find("[context deadline exceeded"), std::string::npos);
}

TEST(ContextLimitsTest, WaitForAtTheExtremes) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  EXPECT_FALSE(ctx.wait_for(nanoseconds::min()));
  EXPECT_FALSE(ctx.wait_for(hours::min()));
  EXPECT_FALSE(ctx.wait_for(fsec(-kInf)));
  EXPECT_FALSE(ctx.wait_for(0s));
  EXPECT_FALSE(ctx.wait_for(-1s));
  EXPECT_THROW((void)ctx.wait_for(fsec(kNaN)), std::invalid_argument);
  // The longest waits last until the context is done; they must not return early.
  std::thread canceller([&c = cancel] { c(); });
  EXPECT_TRUE(ctx.wait_for(hours::max()));
  canceller.join();
  EXPECT_TRUE(ctx.wait_for(nanoseconds::max()));
  EXPECT_TRUE(ctx.wait_for(fsec(kInf)));
  EXPECT_TRUE(ctx.wait_for(nanoseconds::min()));
}

TEST(ContextLimitsTest, TheLongestWaitForsDoNotReturnBeforeTheCancel) {
  for (auto wait : {+[](const Context& c) { return c.wait_for(hours::max()); },
                    +[](const Context& c) { return c.wait_for(nanoseconds::max()); },
                    +[](const Context& c) { return c.wait_for(fsec(kInf)); }}) {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    // Wrapped or negative ends would time out at once; only the cancel may end these.
    std::thread t([&, &c = ctx] { EXPECT_TRUE(wait(c)); });
    EXPECT_FALSE(ctx.wait_for(20ms));  // the other wait is still going (or about to)
    cancel();
    t.join();
  }
}

TEST(ContextLimitsTest, WaitUntilOnOtherClocksAtTheExtremes) {
  using sys = std::chrono::system_clock;
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  EXPECT_FALSE(ctx.wait_until(sys::time_point::min()));
  EXPECT_FALSE(ctx.wait_until(clk::time_point::min()));
  EXPECT_FALSE(ctx.wait_until(std::chrono::time_point<sys, hours>(hours::min())));
  EXPECT_FALSE(ctx.wait_until(std::chrono::time_point<clk, hours>(hours::min())));
  EXPECT_FALSE(ctx.wait_until(sys::time_point{}));
  EXPECT_FALSE(ctx.wait_until(std::chrono::time_point<sys, fsec>(fsec(-kInf))));
  EXPECT_THROW((void)ctx.wait_until(std::chrono::time_point<sys, fsec>(fsec(kNaN))),
               std::invalid_argument);
  std::thread t([&, &c = ctx] {
    EXPECT_TRUE(c.wait_until(sys::time_point::max()));
    EXPECT_TRUE(c.wait_until(std::chrono::time_point<sys, hours>(hours::max())));
    EXPECT_TRUE(c.wait_until(std::chrono::time_point<clk, hours>(hours::max())));
    EXPECT_TRUE(c.wait_until(clk::time_point::max()));
    EXPECT_TRUE(c.wait_until(std::chrono::time_point<sys, fsec>(fsec(kInf))));
  });
  EXPECT_FALSE(ctx.wait_for(20ms));
  cancel();
  t.join();
}

TEST(ContextLimitsTest, WaitUntilAnotherClockMeasuresTheWholeDuration) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  const auto start = clk::now();
  EXPECT_FALSE(ctx.wait_until(std::chrono::system_clock::now() + 20ms));
  EXPECT_GE(clk::now() - start, 20ms);
}

class Deadlined : public cogo::CustomContext {
 public:
  Deadlined(const Context& parent, clk::time_point t)
      : CustomContext(parent, "test.Deadlined", t) {}
};

TEST(ContextLimitsTest, ACustomContextAtTimePointMaxReportsItsDeadline) {
  auto c = cogo::make_context<Deadlined>(cogo::background(), clk::time_point::max());
  EXPECT_EQ(c->context().deadline(), clk::time_point::max());
  auto [child, cancel] = cogo::with_cancel(c->context());
  EXPECT_EQ(child.deadline(), clk::time_point::max());
}

}  // namespace
