#include "cogo/errgroup.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#endif

#include "cogo/chan.hpp"
#include "cogo/select.hpp"
#include "support/runtime_fixture.hpp"
#include "support/test_support.hpp"
#include "support/watchdog.hpp"

namespace {

using cogo::Error;
using cogo::Task;

class ErrGroupTest : public cogo::test::RuntimeTest {};

Task<Error> run_group_with_failure(std::atomic<int>& cancelled) {
  cogo::ErrGroup g(cogo::background());
  const cogo::Context ctx = g.context();
  for (int i = 0; i < 4; ++i) {
    auto waiter = [ctx, &cancelled]() -> Task<Error> {
      co_await ctx.done();
      cancelled.fetch_add(1);
      co_return Error();
    };
    g.go(waiter);
  }
  auto failing = []() -> Task<Error> { co_return Error("disk full"); };
  g.go(failing);
  co_return co_await g.wait();
}

TEST_P(ErrGroupTest, FirstErrorCancelsTheRestAndIsReturned) {
  std::atomic<int> cancelled{0};
  const Error err = run(run_group_with_failure(cancelled));
  ASSERT_TRUE(err);
  EXPECT_EQ(err.message(), "disk full");
  EXPECT_EQ(cancelled.load(), 4);
}

Task<Error> throwing_member() {
  throw std::runtime_error("parse error");
  co_return Error();
}

int go_line = 0;

Task<cogo::Context> group_that_throws(Error& out) {
  cogo::ErrGroup g(cogo::background());
  go_line = __LINE__ + 1;
  g.go(throwing_member);
  out = co_await g.wait();
  co_return g.context();
}

TEST_P(ErrGroupTest, AnExceptionIsTheTasksErrorWithItsStartSite) {
  Error err;
  cogo::Context ctx = run(group_that_throws(err));
  const int line = go_line;
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), cogo::errc::exception);
  EXPECT_EQ(err.message(), "parse error");
  EXPECT_EQ(err.where().line(), static_cast<unsigned>(line));
  EXPECT_THROW(std::rethrow_exception(err.exception()), std::runtime_error);
  // The context is cancelled with the failure as its cause.
  EXPECT_TRUE(ctx.is_done());
  EXPECT_TRUE(cogo::cause(ctx).is(err));
  // The cancel itself is recorded at the go() call that started the failing task.
  EXPECT_EQ(cogo::cause(ctx).where().line(), static_cast<unsigned>(line));
  EXPECT_NE(cogo::cause(ctx).to_string().find("errgroup_test.cpp:" + std::to_string(line)),
            std::string::npos)
      << cogo::cause(ctx).to_string();
}

Task<Error> plain_members(std::atomic<int>& n) {
  cogo::ErrGroup g;  // zero group
  EXPECT_EQ(g.context(), cogo::background());
  for (int i = 0; i < 10; ++i) {
    auto plain = [&n] { n.fetch_add(1); };  // void
    g.go(plain);
    auto with_error = [&n]() -> Error {
      n.fetch_add(1);
      return {};
    };
    g.go(with_error);
  }
  co_return co_await g.wait();
}

TEST_P(ErrGroupTest, PlainFunctionsAndTheZeroGroup) {
  std::atomic<int> n{0};
  EXPECT_FALSE(run(plain_members(n)));
  EXPECT_EQ(n.load(), 20);
}

TEST_P(ErrGroupTest, ChangingTheLimitWhileActiveIsAUsageError) {
  auto gate = cogo::make_chan<int>();
  auto result = run([](cogo::Chan<int> g8) -> Task<bool> {
    cogo::ErrGroup g;
    auto blocked = [g8]() -> Task<> { co_await g8.recv(); };
    g.go(blocked);
    bool threw = false;
    try {
      g.set_limit(1);
    } catch (const cogo::usage_error&) {
      threw = true;
    }
    g8.close();
    co_await g.wait();
    g.set_limit(1);  // idle again: allowed
    co_return threw;
  }(gate));
  EXPECT_TRUE(result);
}

TEST_P(ErrGroupTest, DestroyingTheGroupCancelsItsContext) {
  cogo::Context ctx;
  {
    cogo::ErrGroup g(cogo::background());
    ctx = g.context();
    EXPECT_FALSE(ctx.is_done());
  }
  EXPECT_TRUE(ctx.is_done());
}

TEST_P(ErrGroupTest, NamedMembersAndALimitOfZero) {
  auto gate = cogo::make_chan<int>();
  auto result = run([](cogo::Chan<int> g8) -> Task<bool> {
    cogo::ErrGroup g;
    auto blocked = [g8]() -> Task<> { (void)co_await g8.recv(); };
    g.go("blocked-member", blocked);
    const bool started = g.try_go("second-member", blocked);
    g8.close();
    co_await g.wait();
    g.set_limit(0);
    bool refused = false;
    try {
      g.go("never-starts", blocked);
    } catch (const cogo::usage_error&) {
      refused = true;
    }
    co_await g.wait();  // the refused task was never counted
    co_return started && refused && !g.try_go(blocked);
  }(gate));
  EXPECT_TRUE(result);
}

// The dump names each member as its go() call did.
TEST_P(ErrGroupTest, DumpsShowTheMembersNames) {
  auto gate = cogo::make_chan<int>();
  auto started = cogo::make_chan<int>(2);
  cogo::ErrGroup g;
  auto member = [gate, started]() -> Task<> {
    (void)co_await started.send(1);
    (void)co_await gate.recv();
  };
  run([](cogo::ErrGroup& grp, decltype(member) m) -> Task<> {
    grp.go("fetch-user", m);
    grp.try_go("fetch-orders", m);
    co_return;
  }(g, member));
  EXPECT_TRUE(run(started.recv()));
  EXPECT_TRUE(run(started.recv()));
  std::vector<std::string> names;
  sched().impl().for_each_task([&](cogo::detail::TaskRecord* r) { names.push_back(r->name); });
  EXPECT_NE(std::find(names.begin(), names.end(), "fetch-user"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "fetch-orders"), names.end());
  gate.close();
  EXPECT_FALSE(run(g.wait()));
}

struct GoOutcome {
  bool fired = false;  // the failing allocation happened
  bool threw = false;  // and go() threw bad_alloc
};

// Calls g.go() with the nth allocation on this thread failing (0: none), with no
// suspension in between, so that the failure stays on this thread.
template <class F>
Task<GoOutcome> go_failing(cogo::ErrGroup& g, std::uint64_t nth, F f) {
  GoOutcome o;
  {
    cogo::test::FailAllocation fail(nth);
    try {
      g.go("a-member-with-a-long-name", f);  // the name itself allocates
    } catch (const std::bad_alloc&) {
      o.threw = true;
    }
    o.fired = fail.fired();
  }
  co_return o;
}

// Allocation failure anywhere in ErrGroup::go, the runtime's spawn included: the call
// throws and the group is as it was: wait() does not hang, a limited group's slot is
// not lost, and nothing holding the callable is leaked.
TEST_P(ErrGroupTest, AnAllocationFailureInGoLeavesTheGroupAsItWas) {
  cogo::test::Watchdog dog("an ErrGroup hung after an allocation failure in go()", std::chrono::seconds(120));
  for (const bool limited : {false, true}) {
    std::uint64_t last_fired = 0;
    std::vector<std::uint64_t> leaked_at;
    for (std::uint64_t nth = 0;; ++nth) {
      auto release = cogo::make_chan<int>();
      std::atomic<bool> ran{false}, second_ran{false};
      auto token = std::make_shared<int>(0);
      {
        cogo::ErrGroup g;  // no context of its own: a leaked state holds no context
        if (limited) {
          g.set_limit(1);
          auto blocker = [release]() -> Task<> { (void)co_await release.recv(); };
          run([](cogo::ErrGroup& grp, decltype(blocker) b) -> Task<> {
            grp.go(b);
            co_return;
          }(g, blocker));
        }
        auto f = [token, &ran] { ran.store(true); };
        // nth 0 is the dry run: nothing fails.
        const GoOutcome o = run(go_failing(g, nth, f));
        if (nth != 0 && !o.fired) {
          // Past the last allocation: this go() succeeded; undo it and stop.
          release.close();
          EXPECT_FALSE(run(g.wait()));
          EXPECT_TRUE(ran.load());
          break;
        }
        if (nth != 0) {
          EXPECT_TRUE(o.threw) << "nth " << nth;
          last_fired = nth;
        }
        // The group still works: another member starts (with a limit, once the
        // blocker's slot frees, which would never happen if the failed go() kept it).
        auto second = [&second_ran] { second_ran.store(true); };
        run([](cogo::ErrGroup& grp, decltype(second) s2) -> Task<> {
          grp.go(s2);
          co_return;
        }(g, second));
        release.close();
        EXPECT_FALSE(run(g.wait()));  // hangs if the failed go() stayed counted
        EXPECT_TRUE(second_ran.load());
        EXPECT_EQ(ran.load(), nth == 0) << "nth " << nth;
      }
      // f is gone: another holder of the token is a leaked task frame.
      if (nth != 0 && token.use_count() > 1) leaked_at.push_back(nth);
    }
    EXPECT_GT(last_fired, 0u) << "no allocation failed: the test tested nothing";
    for (std::uint64_t n : leaked_at) {
      ADD_FAILURE() << "the callable leaked when allocation " << n << " failed (limited: "
                    << limited << ")";
    }
  }
}

COGO_RUNTIME_TEST_SUITE(ErrGroupTest);

}  // namespace
