// Go 1.23's src/context tests (context_test.go and x_test.go up to TestCause), ported.
// Each test keeps its Go name. Where cogo differs by design, the test asserts cogo's
// behaviour and says why in one line. The rest: go_context_cause_test.cpp and
// go_context_afterfunc_test.cpp.
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

// ---------------------------------------------------------------- context_test.go

TEST(GoContext, TestParentFinishesChild) {
  const cogo::Key<std::string> key{"key"};
  auto [parent, cancel] = cogo::with_cancel(cogo::background());
  auto [cancel_child, stop1] = cogo::with_cancel(parent);
  auto value_child = cogo::with_value(parent, key, "value");
  auto [timer_child, stop2] = cogo::with_timeout(value_child, kVeryLong);
  auto after_stop = cogo::after_func(parent, [] {});

  for (const Context* c : {&parent, &cancel_child, &value_child, &timer_child}) {
    EXPECT_FALSE(done_now(*c));
  }
  // The parent's links: the cancel child, the timer child (through the value child) and
  // the after_func registration.
  EXPECT_EQ(children(parent), 3u);

  cancel();
  EXPECT_EQ(children(parent), 0u);
  for (const Context* c : {&parent, &cancel_child, &value_child, &timer_child}) {
    EXPECT_TRUE(done_now(*c));
    EXPECT_EQ(c->err(), errc::canceled);
  }
  auto precanceled = cogo::with_value(parent, key, "value");
  EXPECT_TRUE(done_now(precanceled));
  EXPECT_EQ(precanceled.err(), errc::canceled);
}

TEST(GoContext, TestChildFinishesFirst) {
  auto [cancelable, stop] = cogo::with_cancel(cogo::background());
  for (const Context& parent : {cogo::background(), cancelable}) {
    const bool parent_cancelable = parent.node()->done_source() != nullptr;
    auto [child, cancel] = cogo::with_cancel(parent);
    EXPECT_FALSE(done_now(parent));
    EXPECT_FALSE(done_now(child));
    if (parent_cancelable) {
      EXPECT_EQ(children(parent), 1u);
    }
    cancel();
    if (parent_cancelable) {
      EXPECT_EQ(children(parent), 0u);
    }
    EXPECT_TRUE(done_now(child));
    EXPECT_EQ(child.err(), errc::canceled);
    EXPECT_FALSE(done_now(parent));
    EXPECT_FALSE(parent.err());
  }
}

TEST(GoContext, TestCancelRemoves) {
  {
    auto [ctx, c0] = cogo::with_cancel(cogo::background());
    EXPECT_EQ(children(ctx), 0u);
    auto [child, cancel] = cogo::with_cancel(ctx);
    EXPECT_EQ(children(ctx), 1u);
    cancel();
    EXPECT_EQ(children(ctx), 0u);
  }
  {
    auto [ctx, c0] = cogo::with_cancel(cogo::background());
    auto [child, cancel] = cogo::with_timeout(ctx, 60min);
    EXPECT_EQ(children(ctx), 1u);
    cancel();
    EXPECT_EQ(children(ctx), 0u);
  }
  {
    auto [ctx, c0] = cogo::with_cancel(cogo::background());
    auto stop = cogo::after_func(ctx, [] {});
    EXPECT_EQ(children(ctx), 1u);
    EXPECT_TRUE(stop.stop());
    EXPECT_EQ(children(ctx), 0u);
  }
}

// Go starts a goroutine for a parent with an unknown Done channel; cogo has no such
// parent and never starts a thread: every case here, custom parents included, adds none.
TEST(GoContext, TestCustomContextGoroutines) {
  cogo::test::warm_up_runtime();
  const int threads = cogo::test::thread_count();
  auto check = [&] { EXPECT_EQ(cogo::test::thread_count(), threads); };

  {
    auto [c0, cancel0] = cogo::with_cancel(other(cogo::background()));
    cancel0();
    check();
    auto [c1, cancel1] = cogo::with_timeout(other(cogo::background()), kVeryLong);
    cancel1();
    check();
  }
  auto [ctx1, cancel1] = cogo::with_cancel(cogo::background());
  check();
  Context ctx2 = other(ctx1);
  auto [ctx3, cancel3] = cogo::with_cancel(ctx2);
  check();
  auto [ctx3b, cancel3b] = cogo::with_cancel(other(ctx2));
  check();
  auto [ctx4, cancel4] = cogo::with_timeout(ctx3, kVeryLong);
  check();
  auto [ctx5, cancel5] = cogo::with_cancel(ctx4);
  check();
  cancel5();
  check();
  auto [ctx6, cancel6] = cogo::with_timeout(ctx5, kVeryLong);
  check();
  auto stop = cogo::after_func(ctx2, [] {});
  check();
  cancel6();
  cancel1();
  auto [ctx7, cancel7] = cogo::with_cancel(ctx5);
  check();
  EXPECT_TRUE(ctx3b.is_done());
  EXPECT_TRUE(ctx7.is_done());
}

// ---------------------------------------------------------------- x_test.go

TEST(GoContext, TestBackground) {
  const Context c = cogo::background();
  EXPECT_FALSE(done_now(c));
  EXPECT_EQ(c.describe(), "context.Background");
}

TEST(GoContext, TestTODO) {
  const Context c = cogo::todo();
  EXPECT_FALSE(done_now(c));
  EXPECT_EQ(c.describe(), "context.TODO");
}

TEST(GoContext, TestWithCancel) {
  auto [c1, cancel] = cogo::with_cancel(cogo::background());
  EXPECT_EQ(c1.describe(), "context.Background.WithCancel");
  const Context o = other(c1);
  auto [c2, cancel2] = cogo::with_cancel(o);
  const std::vector<Context> contexts = {c1, o, c2};
  for (const Context& c : contexts) {
    EXPECT_FALSE(c.err());
    EXPECT_FALSE(done_now(c));
  }
  cancel();  // propagates synchronously
  for (const Context& c : contexts) {
    EXPECT_TRUE(done_now(c));
    EXPECT_EQ(c.err(), errc::canceled);
  }
}

void test_deadline(const Context& c) {
  ASSERT_TRUE(c.wait_for(kQuiescent)) << "context not timed out";
  EXPECT_EQ(c.err(), errc::deadline_exceeded);
}

TEST(GoContext, TestDeadline) {
  {
    auto [c, cancel] = cogo::with_deadline(cogo::background(), Context::clock::now() + kShort);
    EXPECT_EQ(c.describe().rfind("context.Background.WithDeadline(", 0), 0u) << c.describe();
    test_deadline(c);
  }
  {
    auto [c, cancel] = cogo::with_deadline(cogo::background(), Context::clock::now() + kShort);
    test_deadline(other(c));
  }
  {
    auto [c, cancel] = cogo::with_deadline(cogo::background(), Context::clock::now() + kShort);
    auto [c2, cancel2] = cogo::with_deadline(other(c), Context::clock::now() + kVeryLong);
    test_deadline(c2);
  }
  {
    auto [c, cancel] = cogo::with_deadline(cogo::background(), Context::clock::now() - kShort);
    test_deadline(c);
  }
  {
    auto [c, cancel] = cogo::with_deadline(cogo::background(), Context::clock::now());
    test_deadline(c);
  }
}

TEST(GoContext, TestTimeout) {
  {
    auto [c, cancel] = cogo::with_timeout(cogo::background(), kShort);
    EXPECT_EQ(c.describe().rfind("context.Background.WithDeadline(", 0), 0u) << c.describe();
    test_deadline(c);
  }
  {
    auto [c, cancel] = cogo::with_timeout(cogo::background(), kShort);
    test_deadline(other(c));
  }
  {
    auto [c, cancel] = cogo::with_timeout(cogo::background(), kShort);
    auto [c2, cancel2] = cogo::with_timeout(other(c), kVeryLong);
    test_deadline(c2);
  }
}

TEST(GoContext, TestCanceledTimeout) {
  auto [c, cancel0] = cogo::with_timeout(cogo::background(), 1s);
  auto [c2, cancel] = cogo::with_timeout(other(c), kVeryLong);
  cancel();  // propagates synchronously
  EXPECT_TRUE(done_now(c2));
  EXPECT_EQ(c2.err(), errc::canceled);
}


void check_values(const Context& c, const char* name, const std::string& v1, const std::string& v2,
                  const std::string& v3) {
  SCOPED_TRACE(name);
  auto check = [](const std::string* got, const std::string& want) {
    if (want.empty()) {
      EXPECT_EQ(got, nullptr);
    } else {
      ASSERT_NE(got, nullptr);
      EXPECT_EQ(*got, want);
    }
  };
  check(c.value(k1), v1);
  check(c.value(k2), v2);
  check(c.value(k3), v3);
}

TEST(GoContext, TestValues) {
  const Context c0 = cogo::background();
  check_values(c0, "c0", "", "", "");
  const Context c1 = cogo::with_value(cogo::background(), k1, "c1k1");
  check_values(c1, "c1", "c1k1", "", "");
  EXPECT_EQ(c1.describe(), "context.Background.WithValue(context_test.key1, c1k1)");
  const Context c2 = cogo::with_value(c1, k2, "c2k2");
  check_values(c2, "c2", "c1k1", "c2k2", "");
  EXPECT_EQ(c2.describe(),
            "context.Background.WithValue(context_test.key1, c1k1).WithValue(context_test.key2(1), "
            "c2k2)");
  const Context c3 = cogo::with_value(c2, k3, "c3k3");
  check_values(c3, "c3", "c1k1", "c2k2", "c3k3");
  // Go's WithValue(c3, k1, nil) is cogo's without_value.
  const Context c4 = cogo::without_value(c3, k1);
  check_values(c4, "c4", "", "c2k2", "c3k3");
  EXPECT_EQ(c4.describe(),
            "context.Background.WithValue(context_test.key1, c1k1).WithValue(context_test.key2(1), "
            "c2k2).WithValue(context_test.key2(3), c3k3).WithValue(context_test.key1, <nil>)");

  const Context o0 = other(cogo::background());
  check_values(o0, "o0", "", "", "");
  const Context o1 = other(cogo::with_value(cogo::background(), k1, "c1k1"));
  check_values(o1, "o1", "c1k1", "", "");
  const Context o2 = cogo::with_value(o1, k2, "o2k2");
  check_values(o2, "o2", "c1k1", "o2k2", "");
  const Context o3 = other(c4);
  check_values(o3, "o3", "", "c2k2", "c3k3");
  const Context o4 = cogo::without_value(o3, k3);
  check_values(o4, "o4", "", "c2k2", "");
}

// Go counts its own allocations per operation; these are cogo's.
}  // namespace
