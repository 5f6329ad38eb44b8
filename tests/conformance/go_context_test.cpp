// Go 1.23's src/context tests (context_test.go, x_test.go, afterfunc_test.go), ported.
// Each test keeps its Go name. Where cogo differs by design, the test asserts cogo's
// behaviour and says why in one line.
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
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Context;
using cogo::errc;
using cogo::Error;

constexpr auto kShort = 1ms;
constexpr auto kVeryLong = 1000h;
constexpr auto kQuiescent = 10s;

std::size_t children(const Context& c) {
  return static_cast<cogo::detail::CancelNode*>(c.node())->link_count();
}

// Go's otherContext: a context type that is not one of the package's own. In cogo, a
// custom node that passes everything through to its parent.
class OtherContext : public cogo::CustomContext {
 public:
  explicit OtherContext(const Context& parent) : CustomContext(parent, "context_test.otherContext") {}
};
Context other(const Context& parent) { return cogo::make_context<OtherContext>(parent)->context(); }

// Go's customCauseContext / afterFuncContext: a context cancelled from outside.
class SourceContext : public cogo::CustomContext {
 public:
  explicit SourceContext(const Context& parent = Context())
      : CustomContext(parent, "context_test.customContext") {}
  using CustomContext::cancel;
};

bool done_now(const Context& c) { return c.is_done(); }

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

const cogo::Key<std::string> k1{"context_test.key1"};
const cogo::Key<std::string> k2{"context_test.key2(1)"};  // same name as k1's int, other key
const cogo::Key<std::string> k3{"context_test.key2(3)"};

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
TEST(GoContext, TestAllocs) {
  const cogo::test::NoContextTracking untracked;
  const Context bg = cogo::background();
  auto count = [](auto&& f) {
    f();  // warm caches
    const auto before = cogo::test::allocations();
    for (int i = 0; i < 100; ++i) f();
    return static_cast<double>(cogo::test::allocations() - before) / 100;
  };
  EXPECT_EQ(count([] { (void)cogo::background(); }), 0);
  EXPECT_EQ(count([&] {
              auto c = cogo::without_value(bg, k1);
              (void)c.value(k1);
            }),
            1);
  EXPECT_EQ(count([&] {
              auto [c, cancel] = cogo::with_cancel(bg);
              cancel();
              c.wait();
            }),
            1);
  {
    cogo::ManualClock clock;
    cogo::ManualClock::Scope use(clock);
    // The node, plus the heap array's amortised growth (none once it has grown).
    EXPECT_EQ(count([&] {
                auto [c, cancel] = cogo::with_timeout(bg, 5ms);
                cancel();
                c.wait();
              }),
              1);
    // Expiry builds the deadline message: the node, the message and its string.
    EXPECT_LE(count([&] {
                auto [c, cancel] = cogo::with_timeout(bg, 1ns);
                clock.advance(1ns);
                c.wait();
              }),
              3);
  }
}

TEST(GoContext, TestSimultaneousCancels) {
  auto [root, cancel] = cogo::with_cancel(cogo::background());
  std::vector<std::pair<Context, cogo::CancelFunc>> m;
  m.emplace_back(root, std::move(cancel));
  std::vector<Context> q = {root};
  for (std::size_t head = 0; head < q.size() && m.size() < 100; ++head) {
    const Context parent = q[head];
    for (int i = 0; i < 4; ++i) {
      auto [ctx, c] = cogo::with_cancel(parent);
      m.emplace_back(ctx, std::move(c));
      q.push_back(ctx);
    }
  }
  std::mt19937 rng(std::random_device{}());
  std::shuffle(m.begin(), m.end(), rng);
  std::vector<std::thread> threads;
  for (auto& entry : m) threads.emplace_back([&c = entry.second] { c(); });
  // Wait on the contexts in another random order.
  std::vector<std::size_t> order(m.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  bool all_done = true;
  for (std::size_t i : order) all_done &= m[i].first.wait_for(kQuiescent);
  for (auto& t : threads) t.join();
  EXPECT_TRUE(all_done) << "timed out waiting for a context";
}

TEST(GoContext, TestInterlockedCancels) {
  auto [parent, cancel_parent] = cogo::with_cancel(cogo::background());
  auto [child, cancel_child] = cogo::with_cancel(parent);
  std::thread t([&p = parent, &c = cancel_child] {
    p.wait();
    c();
  });
  cancel_parent();
  EXPECT_TRUE(child.wait_for(kQuiescent));
  t.join();
}

void test_layers(std::uint64_t seed, bool test_timeout) {
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 r(seed);
  struct Layer {
    std::unique_ptr<cogo::Key<int>> key;
    int value;
  };
  std::vector<Layer> vals;
  std::vector<cogo::CancelFunc> cancels;
  int timers = 0;
  Context ctx = cogo::background();
  for (int i = 0; i < 30 || timers == 0 || cancels.empty() || vals.empty(); ++i) {
    switch (r() % 3) {
      case 0: {
        auto key = std::make_unique<cogo::Key<int>>("value");
        ctx = cogo::with_value(ctx, *key, i);
        vals.push_back({std::move(key), i});
        break;
      }
      case 1: {
        auto [c, cancel] = cogo::with_cancel(ctx);
        ctx = c;
        cancels.push_back(std::move(cancel));
        break;
      }
      default: {
        auto [c, cancel] = cogo::with_timeout(ctx, test_timeout ? 1ms : 1000h);
        ctx = c;
        cancels.push_back(std::move(cancel));
        ++timers;
      }
    }
  }
  auto check_values = [&] {
    for (const Layer& l : vals) {
      const int* v = ctx.value(*l.key);
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(*v, l.value);
    }
  };
  if (!test_timeout) {
    EXPECT_FALSE(done_now(ctx));
  }
  EXPECT_EQ(ctx.describe().rfind("context.Background.", 0), 0u);
  check_values();
  if (test_timeout) {
    EXPECT_TRUE(ctx.wait_for(kQuiescent)) << "ctx should have timed out";
  } else {
    cancels[r() % cancels.size()]();
    EXPECT_TRUE(done_now(ctx));
  }
  check_values();
}

TEST(GoContext, TestLayersCancel) { test_layers(std::random_device{}(), false); }
TEST(GoContext, TestLayersTimeout) { test_layers(std::random_device{}(), true); }

TEST(GoContext, TestWithCancelCanceledParent) {
  auto [parent, pcancel] = cogo::with_cancel_cause(cogo::background());
  const Error why("Because!");
  pcancel(why);
  auto [c, cancel] = cogo::with_cancel(parent);
  EXPECT_TRUE(done_now(c));
  EXPECT_EQ(c.err(), errc::canceled);
  EXPECT_TRUE(cogo::cause(c).is(why));
  EXPECT_EQ(cogo::cause(c), cogo::cause(parent));
}

TEST(GoContext, TestWithCancelSimultaneouslyCanceledParent) {
  for (int i = 0; i < 100; ++i) {
    auto [parent, pcancel] = cogo::with_cancel_cause(cogo::background());
    const Error why("Because!");
    std::thread t([&c = pcancel, &why] { c(why); });
    auto [c, cancel] = cogo::with_cancel(parent);
    c.wait();
    EXPECT_EQ(c.err(), errc::canceled);
    EXPECT_TRUE(cogo::cause(c).is(why));
    t.join();
  }
}

// Go panics at run time on a bad key or a nil parent; cogo rejects both at compile time
// (tests/compile_fail/with_value_string_key.cpp, with_cancel_null_parent.cpp). Here:
template <class K>
concept Keyable = requires(K k) { cogo::with_value(cogo::background(), k, "bar"); };
TEST(GoContext, TestWithValueChecksKey) {
  static_assert(!Keyable<const char*>);
  static_assert(!Keyable<std::string>);
  static_assert(Keyable<const cogo::Key<std::string>&>);
}

template <class P>
concept Parent = requires(P p) { cogo::with_cancel(p); };
TEST(GoContext, TestInvalidDerivedFail) {
  static_assert(!Parent<std::nullptr_t>);
  static_assert(Parent<Context>);
}

TEST(GoContext, TestDeadlineExceededSupportsTimeout) {
  auto [c, cancel] = cogo::with_timeout(cogo::background(), -1s);
  EXPECT_TRUE(c.err().is_timeout());
}

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

// ---------------------------------------------------------------- afterfunc_test.go

TEST(GoContext, TestAfterFuncCalledAfterCancel) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cogo::test::Signal done;
  auto stop = cogo::after_func(ctx, [=] { done.set(); });
  EXPECT_FALSE(done.wait_for(kShort)) << "called before done";
  cancel();
  EXPECT_TRUE(done.wait_for(kQuiescent));
  EXPECT_FALSE(stop.stop());
}

TEST(GoContext, TestAfterFuncCalledAfterTimeout) {
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), kShort);
  cogo::test::Signal done;
  auto stop = cogo::after_func(ctx, [=] { done.set(); });
  EXPECT_TRUE(done.wait_for(kQuiescent));
}

TEST(GoContext, TestAfterFuncCalledImmediately) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  cogo::test::Signal done;
  auto stop = cogo::after_func(ctx, [=] { done.set(); });
  EXPECT_TRUE(done.wait_for(kQuiescent));
}

TEST(GoContext, TestAfterFuncNotCalledAfterStop) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::atomic<bool> called{false};
  auto stop = cogo::after_func(ctx, [&] { called = true; });
  EXPECT_TRUE(stop.stop());
  cancel();
  // Callbacks run in order on the executor: once this one ran, the stopped one would have.
  cogo::test::Signal later;
  auto marker = cogo::after_func(ctx, [=] { later.set(); });
  ASSERT_TRUE(later.wait_for(kQuiescent));
  EXPECT_FALSE(called);
  EXPECT_FALSE(stop.stop());
}

// Cancelling does not wait for after_func callbacks to finish.
TEST(GoContext, TestAfterFuncCalledAsynchronously) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cogo::test::Signal release, finished;
  auto stop = cogo::after_func(ctx, [=] {
    release.wait_for(kQuiescent);  // blocks until the test, after cancel() returned, lets it go
    finished.set();
  });
  cancel();  // returns although f is blocked
  release.set();
  EXPECT_TRUE(finished.wait_for(kQuiescent));
}

TEST(GoContext, TestCustomContextAfterFuncCancel) {
  auto ctx0 = cogo::make_context<SourceContext>();
  auto [ctx1, cancel] = cogo::with_cancel(ctx0->context());
  ctx0->cancel();
  EXPECT_TRUE(ctx1.wait_for(kQuiescent));
}

TEST(GoContext, TestCustomContextAfterFuncTimeout) {
  auto ctx0 = cogo::make_context<SourceContext>();
  auto [ctx1, cancel] = cogo::with_timeout(ctx0->context(), kVeryLong);
  ctx0->cancel();
  EXPECT_TRUE(ctx1.wait_for(kQuiescent));
}

TEST(GoContext, TestCustomContextAfterFuncAfterFunc) {
  auto ctx0 = cogo::make_context<SourceContext>();
  cogo::test::Signal done;
  auto stop = cogo::after_func(ctx0->context(), [=] { done.set(); });
  ctx0->cancel();
  EXPECT_TRUE(done.wait_for(kQuiescent));
}

TEST(GoContext, TestCustomContextAfterFuncUnregisterCancel) {
  auto ctx0 = cogo::make_context<SourceContext>();
  auto [c1, cancel1] = cogo::with_cancel(ctx0->context());
  auto [c2, cancel2] = cogo::with_cancel(ctx0->context());
  EXPECT_EQ(ctx0->link_count(), 2u);
  cancel1();
  cancel2();
  EXPECT_EQ(ctx0->link_count(), 0u);
}

TEST(GoContext, TestCustomContextAfterFuncUnregisterTimeout) {
  auto ctx0 = cogo::make_context<SourceContext>();
  auto [c, cancel] = cogo::with_timeout(ctx0->context(), kVeryLong);
  EXPECT_EQ(ctx0->link_count(), 1u);
  cancel();
  EXPECT_EQ(ctx0->link_count(), 0u);
}

TEST(GoContext, TestCustomContextAfterFuncUnregisterAfterFunc) {
  auto ctx0 = cogo::make_context<SourceContext>();
  auto stop = cogo::after_func(ctx0->context(), [] {});
  EXPECT_EQ(ctx0->link_count(), 1u);
  stop.stop();
  EXPECT_EQ(ctx0->link_count(), 0u);
}

// ---------------------------------------------------------------- net_test.go

// Go's DeadlineExceeded is a net.Error with Timeout() true; cogo's code is a timeout and
// compares equal to std::errc::timed_out, the standard library's spelling of it.
TEST(GoContext, TestDeadlineExceededIsNetError) {
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 0s);
  const Error err = ctx.err();
  EXPECT_TRUE(err.is_timeout());
  EXPECT_TRUE(err.code() == std::errc::timed_out);
  EXPECT_TRUE(err.is(std::errc::timed_out));
}

}  // namespace
