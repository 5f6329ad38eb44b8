// Go 1.23's src/context tests of causes, WithoutCancel and custom contexts (x_test.go from
// TestCause on), ported with their Go names.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cogo/context.hpp"
#include "cogo/custom_context.hpp"
#include "cogo/manual_clock.hpp"
#include "conformance/go_context_support.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace cogo::test::go_context;
using cogo::Context;
using cogo::errc;
using cogo::Error;

TEST(GoContext, TestCause) {
  const Error parent_cause("parentCause");
  const Error child_cause("childCause");
  const Error too_slow("tooSlow");
  const Error finished_early("finishedEarly");
  const auto forever = std::chrono::seconds(1'000'000);

  // Go's Cause returns the cause itself; cogo's wraps it with the cancel site, so a cause
  // is checked with is(): `want_cause` must be in the chain, and the top code must match.
  struct Case {
    const char* name;
    std::function<Context()> ctx;
    std::optional<errc> err;
    std::optional<errc> cause_code;
    const Error* cause;  // the user error expected in the cause chain, if any
  };
  const std::vector<Case> cases = {
      {"Background", [] { return cogo::background(); }, {}, {}, nullptr},
      {"TODO", [] { return cogo::todo(); }, {}, {}, nullptr},
      {"WithCancel",
       [] {
         auto [ctx, cancel] = cogo::with_cancel(cogo::background());
         cancel();
         return ctx;
       },
       errc::canceled, errc::canceled, nullptr},
      {"WithCancelCause",
       [&] {
         auto [ctx, cancel] = cogo::with_cancel_cause(cogo::background());
         cancel(parent_cause);
         return ctx;
       },
       errc::canceled, errc::canceled, &parent_cause},
      {"WithCancelCause nil",
       [] {
         auto [ctx, cancel] = cogo::with_cancel_cause(cogo::background());
         cancel(Error());
         return ctx;
       },
       errc::canceled, errc::canceled, nullptr},
      {"WithCancelCause: parent cause before child",
       [&] {
         auto [p, cancel_parent] = cogo::with_cancel_cause(cogo::background());
         auto [ctx, cancel_child] = cogo::with_cancel_cause(p);
         cancel_parent(parent_cause);
         cancel_child(child_cause);
         return ctx;
       },
       errc::canceled, errc::canceled, &parent_cause},
      {"WithCancelCause: parent cause after child",
       [&] {
         auto [p, cancel_parent] = cogo::with_cancel_cause(cogo::background());
         auto [ctx, cancel_child] = cogo::with_cancel_cause(p);
         cancel_child(child_cause);
         cancel_parent(parent_cause);
         return ctx;
       },
       errc::canceled, errc::canceled, &child_cause},
      {"WithCancelCause: parent cause before nil",
       [&] {
         auto [p, cancel_parent] = cogo::with_cancel_cause(cogo::background());
         auto [ctx, cancel_child] = cogo::with_cancel(p);
         cancel_parent(parent_cause);
         cancel_child();
         return ctx;
       },
       errc::canceled, errc::canceled, &parent_cause},
      {"WithCancelCause: parent cause after nil",
       [&] {
         auto [p, cancel_parent] = cogo::with_cancel_cause(cogo::background());
         auto [ctx, cancel_child] = cogo::with_cancel(p);
         cancel_child();
         cancel_parent(parent_cause);
         return ctx;
       },
       errc::canceled, errc::canceled, nullptr},
      {"WithCancelCause: child cause after nil",
       [&] {
         auto [p, cancel_parent] = cogo::with_cancel(cogo::background());
         auto [ctx, cancel_child] = cogo::with_cancel_cause(p);
         cancel_parent();
         cancel_child(child_cause);
         return ctx;
       },
       errc::canceled, errc::canceled, nullptr},
      {"WithCancelCause: child cause before nil",
       [&] {
         auto [p, cancel_parent] = cogo::with_cancel(cogo::background());
         auto [ctx, cancel_child] = cogo::with_cancel_cause(p);
         cancel_child(child_cause);
         cancel_parent();
         return ctx;
       },
       errc::canceled, errc::canceled, &child_cause},
      {"WithTimeout",
       [] {
         auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 0s);
         cancel();
         return ctx;
       },
       errc::deadline_exceeded, errc::deadline_exceeded, nullptr},
      {"WithTimeout canceled",
       [&] {
         auto [ctx, cancel] = cogo::with_timeout(cogo::background(), forever);
         cancel();
         return ctx;
       },
       errc::canceled, errc::canceled, nullptr},
      {"WithTimeoutCause",
       [&] {
         auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 0s, too_slow);
         cancel();
         return ctx;
       },
       errc::deadline_exceeded, errc::deadline_exceeded, &too_slow},
      {"WithTimeoutCause canceled",
       [&] {
         auto [ctx, cancel] = cogo::with_timeout(cogo::background(), forever, too_slow);
         cancel();
         return ctx;
       },
       errc::canceled, errc::canceled, nullptr},
      {"WithTimeoutCause stacked",
       [&] {
         auto [p, cancel] = cogo::with_cancel_cause(cogo::background());
         auto [ctx, c2] = cogo::with_timeout(p, 0s, too_slow);
         cancel(finished_early);
         return ctx;
       },
       errc::deadline_exceeded, errc::deadline_exceeded, &too_slow},
      {"WithTimeoutCause stacked canceled",
       [&] {
         auto [p, cancel] = cogo::with_cancel_cause(cogo::background());
         auto [ctx, c2] = cogo::with_timeout(p, forever, too_slow);
         cancel(finished_early);
         return ctx;
       },
       errc::canceled, errc::canceled, &finished_early},
      {"WithoutCancel", [] { return cogo::without_cancel(cogo::background()); }, {}, {}, nullptr},
      {"WithoutCancel canceled",
       [&] {
         auto [p, cancel] = cogo::with_cancel_cause(cogo::background());
         Context ctx = cogo::without_cancel(p);
         cancel(finished_early);
         return ctx;
       },
       {}, {}, nullptr},
      {"WithoutCancel timeout",
       [&] {
         auto [p, cancel] = cogo::with_timeout(cogo::background(), 0s, too_slow);
         Context ctx = cogo::without_cancel(p);
         cancel();
         return ctx;
       },
       {}, {}, nullptr},
  };
  ASSERT_EQ(cases.size(), 20u);  // every row of the table in Go 1.23.5's x_test.go
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Context ctx = c.ctx();
    const Error err = ctx.err();
    const Error why = cogo::cause(ctx);
    if (c.err) {
      EXPECT_EQ(err, *c.err) << err;
    } else {
      EXPECT_FALSE(err) << err;
    }
    if (c.cause_code) {
      EXPECT_EQ(why, *c.cause_code) << why;
    } else {
      EXPECT_FALSE(why) << why;
    }
    for (const Error* user : {&parent_cause, &child_cause, &too_slow, &finished_early}) {
      EXPECT_EQ(why.is(*user), user == c.cause) << "cause " << why << " vs " << *user;
    }
  }
}

TEST(GoContext, TestCauseRace) {
  const Error why("TestCauseRace");
  auto [ctx, cancel] = cogo::with_cancel_cause(cogo::background());
  std::thread t([&c = cancel, &why] { c(why); });
  // Poll cause(), rather than waiting, to check that reading it is synchronised.
  for (;;) {
    if (const Error e = cogo::cause(ctx)) {
      EXPECT_TRUE(e.is(why)) << e;
      break;
    }
    std::this_thread::yield();
  }
  t.join();
}

TEST(GoContext, TestWithoutCancel) {
  const cogo::Key<std::string> key{"key"};
  Context ctx = cogo::with_value(cogo::background(), key, "value");
  ctx = cogo::without_cancel(ctx);
  EXPECT_FALSE(ctx.deadline());
  EXPECT_FALSE(done_now(ctx));
  EXPECT_FALSE(ctx.stop_token().stop_possible());  // Go: a nil Done channel
  EXPECT_FALSE(ctx.err());
  ASSERT_NE(ctx.value(key), nullptr);
  EXPECT_EQ(*ctx.value(key), "value");
}

TEST(GoContext, TestCustomContextPropagation) {
  const Error why("TestCustomContextPropagation");
  auto [ctx1, cancel1] = cogo::with_cancel_cause(cogo::background());
  auto ctx2 = cogo::make_context<SourceContext>(ctx1);
  auto [ctx3, cancel3] = cogo::with_cancel(ctx2->context());
  cancel1(why);
  ctx2->cancel();
  ctx3.wait();
  EXPECT_EQ(ctx3.err(), errc::canceled);
  EXPECT_TRUE(cogo::cause(ctx3).is(why));
}

TEST(GoContext, TestCustomContextCause) {
  {
    auto ccc = cogo::make_context<SourceContext>();
    ccc->cancel();
    EXPECT_EQ(ccc->context().err(), errc::canceled);
    EXPECT_EQ(cogo::cause(ccc->context()), errc::canceled);
  }
  {
    auto ccc = cogo::make_context<SourceContext>();
    auto [ctx, cause_func] = cogo::with_cancel_cause(ccc->context());
    const Error why("TestCustomContextCause");
    cause_func(why);
    EXPECT_EQ(ctx.err(), errc::canceled);
    EXPECT_TRUE(cogo::cause(ctx).is(why));
    EXPECT_FALSE(ccc->context().err());
    EXPECT_FALSE(cogo::cause(ccc->context()));

    ccc->cancel();
    EXPECT_EQ(ctx.err(), errc::canceled);
    EXPECT_TRUE(cogo::cause(ctx).is(why));
    EXPECT_EQ(ccc->context().err(), errc::canceled);
    EXPECT_EQ(cogo::cause(ccc->context()), errc::canceled);
  }
  {
    // Go needs setCancelChild to link a custom parent to its child; cogo links them.
    auto ccc = cogo::make_context<SourceContext>();
    auto [ctx, cancel] = cogo::with_cancel(ccc->context());
    ccc->cancel();
    EXPECT_EQ(ctx.err(), errc::canceled);
    EXPECT_EQ(cogo::cause(ctx), errc::canceled);
    EXPECT_EQ(ccc->context().err(), errc::canceled);
  }
}

}  // namespace
