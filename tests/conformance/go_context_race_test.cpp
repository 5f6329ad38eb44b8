// Go 1.23's src/context x_test.go from TestAllocs to TestCause (allocations, cancels racing
// each other, layered contexts), ported with their Go names.
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

}  // namespace
