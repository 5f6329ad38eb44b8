#include "cogo/context.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cogo/custom_context.hpp"
#include "cogo/manual_clock.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::errc;
using cogo::Error;

std::string here(int line) { return "tests/unit/context_test.cpp:" + std::to_string(line); }

TEST(ContextTest, BackgroundIsNeverDone) {
  const cogo::Context bg;
  EXPECT_FALSE(bg.is_done());
  EXPECT_FALSE(bg.err());
  EXPECT_FALSE(bg.deadline());
  EXPECT_FALSE(cogo::cause(bg));
  EXPECT_FALSE(bg.wait_for(1ms));
  EXPECT_EQ(bg, cogo::background());
  EXPECT_FALSE(bg.stop_token().stop_possible());
}

TEST(ContextTest, CancelRecordsTheSiteOfTheCall) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  const int line = __LINE__ + 1;
  cancel();
  ASSERT_TRUE(ctx.is_done());
  EXPECT_EQ(ctx.err().to_string(), "context canceled at " + here(line));
  EXPECT_EQ(cogo::cause(ctx), ctx.err());
  EXPECT_EQ(ctx.describe(), "context.Background.WithCancel [context canceled at " + here(line) + "]");
}

TEST(ContextTest, OnlyTheFirstCancelCounts) {
  auto [ctx, cancel] = cogo::with_cancel_cause(cogo::background());
  const int line = __LINE__ + 1;
  cancel(Error("first"));
  cancel(Error("second"));
  EXPECT_EQ(ctx.err().where().line(), static_cast<unsigned>(line));
  EXPECT_TRUE(cogo::cause(ctx).is(errc::canceled));
  EXPECT_EQ(cogo::cause(ctx).cause().message(), "first");
}

TEST(ContextTest, DestroyingTheCancelFuncCancels) {
  cogo::Context ctx;
  const int line = __LINE__ + 2;
  {
    auto r = cogo::with_cancel(cogo::background());
    ctx = r.ctx;
    EXPECT_FALSE(ctx.is_done());
  }
  ASSERT_TRUE(ctx.is_done());
  EXPECT_EQ(ctx.err().to_string(),
            "context canceled at " + here(line) + " (cancel handle released)");
}

TEST(ContextTest, MoveAssigningACancelFuncCancelsTheOldContext) {
  auto a = cogo::with_cancel(cogo::background());
  auto b = cogo::with_cancel(cogo::background());
  a.cancel = std::move(b.cancel);
  EXPECT_TRUE(a.ctx.is_done());
  EXPECT_FALSE(b.ctx.is_done());
  a.cancel();
  EXPECT_TRUE(b.ctx.is_done());
}

TEST(ContextTest, CauseWrapsTheUserErrorAndNamesTheSite) {
  auto [ctx, cancel] = cogo::with_cancel_cause(cogo::background());
  const Error why(std::make_error_code(std::errc::connection_reset), "client disconnected",
                  cogo::source_location());
  const int line = __LINE__ + 1;
  cancel(why);
  EXPECT_EQ(ctx.err(), errc::canceled);
  const Error c = cogo::cause(ctx);
  EXPECT_EQ(c.code(), errc::canceled);
  EXPECT_TRUE(c.is(why));
  EXPECT_TRUE(c.is(std::errc::connection_reset));
  EXPECT_EQ(c.to_string(), "context canceled at " + here(line) + " (" + why.to_string() + ")");
}

TEST(ContextTest, ChildrenGetTheParentsErrorAndCause) {
  auto [root, cancel] = cogo::with_cancel_cause(cogo::background());
  auto [mid, mid_cancel] = cogo::with_cancel(root);
  const cogo::Key<int> k{"k"};
  auto val = cogo::with_value(mid, k, 1);
  auto [leaf, leaf_cancel] = cogo::with_cancel(val);
  const int line = __LINE__ + 1;
  cancel(Error("shutdown"));
  for (const cogo::Context* c : {&mid, &val, &leaf}) {
    ASSERT_TRUE(c->is_done());
    EXPECT_EQ(c->err(), root.err());
    EXPECT_EQ(cogo::cause(*c), cogo::cause(root));
  }
  // The leaf's description names where the root was cancelled, and why.
  EXPECT_EQ(leaf.describe(), "context.Background.WithCancel.WithCancel.WithValue(k, int).WithCancel "
                             "[context canceled at " + here(line) + " (shutdown)]");
}

TEST(ContextTest, ChildOfADoneParentIsBornDone) {
  auto [p, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  auto [c, c_cancel] = cogo::with_cancel(p);
  EXPECT_TRUE(c.is_done());
  EXPECT_EQ(c.err(), p.err());
}

TEST(ContextTest, ValuesAreFoundInnermostFirst) {
  static const cogo::Key<std::string> user{"user"};
  static const cogo::Key<std::string> other_user{"user"};  // same name, different key
  static const cogo::Key<int> depth{"depth"};
  auto a = cogo::with_value(cogo::background(), user, "alice");
  auto [b, cancel] = cogo::with_cancel(a);
  auto c = cogo::with_value(b, depth, 3);
  auto d = cogo::with_value(c, user, "bob");
  ASSERT_NE(d.value(user), nullptr);
  EXPECT_EQ(*d.value(user), "bob");
  EXPECT_EQ(*c.value(user), "alice");
  EXPECT_EQ(*d.value(depth), 3);
  EXPECT_EQ(d.value(other_user), nullptr);
  EXPECT_EQ(a.value(depth), nullptr);
  auto e = cogo::without_value(d, user);
  EXPECT_EQ(e.value(user), nullptr);
  EXPECT_EQ(*e.value(depth), 3);
}

// A custom node binding one key, to interleave with value nodes below.
class Binder : public cogo::CustomContext {
 public:
  Binder(const cogo::Context& parent, const cogo::Key<int>& key, int v)
      : CustomContext(parent, "test.Binder"), key_(key), v_(v) {}

 protected:
  cogo::detail::ValueHit find_value(const cogo::KeyBase* key) const noexcept override {
    if (key == &key_) return {true, &v_};
    return {false, nullptr};
  }

 private:
  const cogo::Key<int>& key_;
  int v_;
};

TEST(ContextTest, LookupsMatchAReferenceModelOnLongMixedChains) {
  static const cogo::Key<int> keys[5] = {cogo::Key<int>{"k0"}, cogo::Key<int>{"k1"},
                                         cogo::Key<int>{"k2"}, cogo::Key<int>{"k3"},
                                         cogo::Key<int>{"k4"}};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    cogo::Context ctx;
    std::vector<cogo::CancelFunc> cancels;
    std::optional<int> model[5];  // innermost binding per key; nullopt: none or nil
    for (int step = 0; step < 60; ++step) {
      const int k = static_cast<int>(rng() % 5);
      switch (rng() % 6) {
        case 0:
        case 1:
        case 2:
          ctx = cogo::with_value(ctx, keys[k], step);
          model[k] = step;
          break;
        case 3:
          ctx = cogo::without_value(ctx, keys[k]);
          model[k].reset();
          break;
        case 4: {
          auto r = cogo::with_cancel(ctx);
          ctx = r.ctx;
          cancels.push_back(std::move(r.cancel));
          break;
        }
        default:
          ctx = cogo::make_context<Binder>(ctx, keys[k], -step)->context();
          model[k] = -step;
      }
      for (int q = 0; q < 5; ++q) {
        const int* got = ctx.value(keys[q]);
        ASSERT_EQ(got != nullptr, model[q].has_value()) << "trial " << trial << " step " << step;
        if (got != nullptr) {
          ASSERT_EQ(*got, *model[q]) << "trial " << trial << " step " << step;
        }
      }
    }
  }
}

TEST(ContextTest, MoveOnlyValuesWork) {
  static const cogo::Key<std::unique_ptr<int>> k{"owned"};
  auto ctx = cogo::with_value(cogo::background(), k, std::make_unique<int>(7));
  ASSERT_NE(ctx.value(k), nullptr);
  EXPECT_EQ(**ctx.value(k), 7);
}

TEST(ContextTest, WithoutCancelKeepsValuesButNotCancellation) {
  static const cogo::Key<std::string> k{"request_id"};
  auto [ctx, cancel] = cogo::with_timeout(cogo::with_value(cogo::background(), k, "r-1"), 1h);
  auto detached = cogo::without_cancel(ctx);
  cancel();
  EXPECT_TRUE(ctx.is_done());
  EXPECT_FALSE(detached.is_done());
  EXPECT_FALSE(detached.err());
  EXPECT_FALSE(cogo::cause(detached));
  EXPECT_FALSE(detached.deadline());
  EXPECT_EQ(*detached.value(k), "r-1");
  const std::string d = detached.describe();
  EXPECT_EQ(d.rfind("context.Background.WithValue(request_id, r-1).WithDeadline(", 0), 0u) << d;
  EXPECT_TRUE(d.ends_with(".WithoutCancel")) << d;  // not done: no cause suffix
}

TEST(ContextTest, DeadlineIsTheEarliestOfTheChain) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  auto [outer, c1] = cogo::with_timeout(cogo::background(), 10s);
  auto [inner, c2] = cogo::with_timeout(outer, 1h);  // later: a plain cancel child
  auto [tight, c3] = cogo::with_timeout(outer, 1s);
  ASSERT_TRUE(outer.deadline());
  EXPECT_EQ(*inner.deadline(), *outer.deadline());
  EXPECT_EQ(*tight.deadline(), clock.now() + 1s);
  EXPECT_EQ(inner.describe().find("WithDeadline", 30), std::string::npos) << inner.describe();
  EXPECT_EQ(clock.armed_timers(), 2u);
}

TEST(ContextTest, DeadlineErrorNamesTheSiteAndLength) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  const int line = __LINE__ + 1;
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 250ms);
  clock.advance(249ms);
  EXPECT_FALSE(ctx.is_done());
  clock.advance(1ms);
  ASSERT_TRUE(ctx.is_done());
  EXPECT_TRUE(ctx.err().is_timeout());
  EXPECT_EQ(ctx.err().to_string(),
            "context deadline exceeded (deadline set at " + here(line) + ", 250ms)");
  EXPECT_EQ(clock.armed_timers(), 0u);
}

TEST(ContextTest, CancellingReleasesTheTimerAtOnce) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  auto [root, cancel] = cogo::with_cancel(cogo::background());
  std::vector<cogo::Cancelable<cogo::CancelFunc>> kids;
  for (int i = 0; i < 10; ++i) kids.push_back(cogo::with_timeout(root, 1h));
  EXPECT_EQ(clock.armed_timers(), 10u);
  kids[3].cancel();
  EXPECT_EQ(clock.armed_timers(), 9u);
  cancel();  // the parent's cancel releases every child's timer
  EXPECT_EQ(clock.armed_timers(), 0u);
  for (auto& k : kids) EXPECT_EQ(k.ctx.err(), errc::canceled);
}

TEST(ContextTest, CancelledChildrenLeaveTheirParent) {
  auto [root, cancel] = cogo::with_cancel(cogo::background());
  auto* root_node = static_cast<cogo::detail::CancelNode*>(root.node());
  {
    auto a = cogo::with_cancel(root);
    auto b = cogo::with_timeout(root, 1h);
    auto stop = cogo::after_func(root, [] {});
    EXPECT_EQ(root_node->link_count(), 3u);
    a.cancel();
    EXPECT_EQ(root_node->link_count(), 2u);
  }
  EXPECT_EQ(root_node->link_count(), 0u);
}

TEST(ContextTest, WithCancelAndCancelAllocateOnce) {
  const cogo::test::NoContextTracking untracked;
  const cogo::Context parent = cogo::with_cancel(cogo::background()).ctx;  // done; fine
  auto [live, keep] = cogo::with_cancel(cogo::background());
  for (const cogo::Context* p : {&parent, static_cast<const cogo::Context*>(&live)}) {
    const auto before = cogo::test::allocations();
    {
      auto [ctx, cancel] = cogo::with_cancel(*p);
      cancel();
    }
    EXPECT_EQ(cogo::test::allocations() - before, 1u);
  }
}

TEST(ContextTest, CancellingASubtreeDoesNotAllocate) {
  const cogo::test::NoContextTracking untracked;
  auto [root, cancel] = cogo::with_cancel_cause(cogo::background());
  const Error why("why");  // built before counting
  std::vector<cogo::Cancelable<cogo::CancelFunc>> nodes;
  nodes.reserve(1000);
  for (int i = 0; i < 1000; ++i) nodes.push_back(cogo::with_cancel(i == 0 ? root : nodes[i / 2].ctx));
  const auto before = cogo::test::allocations();
  cancel(why);  // the cause wrapper is this cancel's one allocation
  EXPECT_LE(cogo::test::allocations() - before, 1u);
  for (auto& n : nodes) ASSERT_TRUE(n.ctx.is_done());
}

TEST(ContextTest, DeepChainsCancelAndFreeWithoutRecursion) {
  auto [root, cancel] = cogo::with_cancel(cogo::background());
  cogo::Context leaf = root;
  {
    std::vector<cogo::CancelFunc> cancels;
    for (int i = 0; i < 200000; ++i) {
      auto r = cogo::with_cancel(leaf);
      leaf = r.ctx;
      cancels.push_back(std::move(r.cancel));
    }
    cancel();
    EXPECT_TRUE(leaf.is_done());
  }
  leaf = cogo::Context();  // frees 200,000 nodes, one after another
  EXPECT_FALSE(leaf.is_done());
}

TEST(ContextTest, WaitReturnsWhenAnotherThreadCancels) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::thread t([&, &c = cancel] { c(); });
  ctx.wait();
  EXPECT_TRUE(ctx.is_done());
  t.join();
}

TEST(ContextTest, WaitForTimesOutWhileNotDone) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ctx.wait_for(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_FALSE(ctx.wait_until(std::chrono::system_clock::now() + 1ms));
  cancel();
  EXPECT_TRUE(ctx.wait_for(0ms));
  EXPECT_TRUE(ctx.wait_for(1h));
}

TEST(ContextTest, StopTokenWorksWithJthreadAndConditionVariableAny) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::stop_token tok = ctx.stop_token();
  EXPECT_TRUE(tok.stop_possible());
  EXPECT_FALSE(tok.stop_requested());
  std::mutex mu;
  std::condition_variable_any cv;
  std::atomic<bool> woke{false};
  std::jthread worker([&, tok] {
    std::unique_lock lk(mu);
    // Returns when the context is cancelled; the predicate never becomes true.
    cv.wait(lk, tok, [] { return false; });
    woke = tok.stop_requested();
  });
  std::atomic<bool> callback_ran{false};
  std::stop_callback cb(tok, [&] { callback_ran = true; });
  cancel();
  worker.join();
  EXPECT_TRUE(woke);
  EXPECT_TRUE(callback_ran);
  EXPECT_TRUE(ctx.stop_token().stop_requested());  // after done: a stopped token
}

TEST(ContextTest, StopTokenOfAValueContextFollowsItsCancelAncestor) {
  static const cogo::Key<int> k{"k"};
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto v = cogo::with_value(ctx, k, 1);
  std::stop_token tok = v.stop_token();
  cancel();
  EXPECT_TRUE(tok.stop_requested());
}

TEST(ContextTest, PrintsWithTheStreamOperator) {
  std::ostringstream os;
  os << cogo::todo();
  EXPECT_EQ(os.str(), "context.TODO");
}

TEST(ContextTest, MovedFromContextIsBackground) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cogo::Context moved = std::move(ctx);
  EXPECT_EQ(ctx, cogo::background());  // NOLINT(bugprone-use-after-move)
  cancel();
  EXPECT_TRUE(moved.is_done());
}

}  // namespace
