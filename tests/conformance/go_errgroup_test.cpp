// golang.org/x/sync/errgroup v0.8.0's tests, ported with their Go names.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/errgroup.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Error;
using cogo::Task;

class GoErrGroup : public cogo::test::RuntimeTest {};

Task<> zero_group(std::vector<Error> errs, std::vector<Error>& waits) {
  cogo::ErrGroup g;
  for (const Error& err : errs) {
    auto f = [err]() -> Error { return err; };
    g.go(f);
    waits.push_back(co_await g.wait());
  }
}

TEST_P(GoErrGroup, TestZeroGroup) {
  const Error err1("errgroup_test: 1"), err2("errgroup_test: 2");
  const std::vector<std::vector<Error>> cases = {{}, {Error()}, {err1}, {err1, Error()}, {err1, Error(), err2}};
  for (const auto& errs : cases) {
    std::vector<Error> waits;
    run(zero_group(errs, waits));
    Error first;
    for (std::size_t i = 0; i < errs.size(); ++i) {
      if (!first && errs[i]) first = errs[i];
      EXPECT_EQ(waits[i], first) << "after Go #" << i;
    }
  }
}

Task<std::pair<Error, cogo::Context>> with_context(std::vector<Error> errs) {
  cogo::ErrGroup g(cogo::background());
  for (const Error& err : errs) {
    auto f = [err]() -> Error { return err; };
    g.go(f);
  }
  Error e = co_await g.wait();
  co_return std::pair{e, g.context()};
}

TEST_P(GoErrGroup, TestWithContext) {
  const Error err1("errgroup_test: 1");
  const std::vector<std::pair<std::vector<Error>, Error>> cases = {
      {{}, Error()}, {{Error()}, Error()}, {{err1}, err1}, {{Error(), err1}, err1}};
  for (const auto& [errs, want] : cases) {
    auto [err, ctx] = run(with_context(errs));
    EXPECT_EQ(err, want);
    // Wait cancels the context whether or not anything failed.
    EXPECT_TRUE(ctx.is_done());
    EXPECT_EQ(ctx.err(), cogo::errc::canceled);
  }
}

Task<> take_n(Chan<int> ch, int n) {
  for (int i = 0; i < n; ++i) (void)co_await ch.recv();
}

Task<bool> try_go_scenario(cogo::Scheduler& sched) {
  cogo::ErrGroup g;
  const int n = 42;
  g.set_limit(42);
  auto ch = cogo::make_chan<int>();
  auto fn = [ch]() -> Task<> { (void)co_await ch.send(0); };
  for (int i = 0; i < n; ++i) {
    if (!g.try_go(fn)) co_return false;  // TryGo should succeed
  }
  if (g.try_go(fn)) co_return false;  // at the limit: must fail
  sched.go(take_n(ch, n));
  co_await g.wait();
  if (!g.try_go(fn)) co_return false;  // free again
  sched.go(take_n(ch, 1));
  co_await g.wait();
  g.set_limit(1);  // switch limit
  if (!g.try_go(fn)) co_return false;
  if (g.try_go(fn)) co_return false;
  sched.go(take_n(ch, 1));
  co_await g.wait();
  g.set_limit(0);  // block all calls
  for (int i = 0; i < 1 << 10; ++i) {
    if (g.try_go(fn)) co_return false;
  }
  co_await g.wait();
  co_return true;
}

TEST_P(GoErrGroup, TestTryGo) { EXPECT_TRUE(run(try_go_scenario(sched()))); }

Task<Error> limited(cogo::ErrGroup& g, std::atomic<int>& active, int limit) {
  for (int i = 0; i <= 1 << 10; ++i) {
    auto f = [&active, limit]() -> Task<Error> {
      const int n = active.fetch_add(1) + 1;
      if (n > limit) co_return Error("saw " + std::to_string(n) + " active tasks; want <= " + std::to_string(limit));
      co_await cogo::sleep(1us);  // give the others a chance to increment active
      active.fetch_sub(1);
      co_return Error();
    };
    g.go(f);
  }
  co_return co_await g.wait();
}

TEST_P(GoErrGroup, TestGoLimit) {
  constexpr int kLimit = 10;
  cogo::ErrGroup g;
  g.set_limit(kLimit);
  std::atomic<int> active{0};
  const Error err = run(limited(g, active, kLimit));
  EXPECT_FALSE(err) << err;
}

Task<std::pair<Error, cogo::Context>> cancel_cause(std::vector<Error> errs) {
  cogo::ErrGroup g(cogo::background());
  for (const Error& err : errs) {
    auto f = [err]() -> Error { return err; };
    g.try_go(f);
  }
  Error e = co_await g.wait();
  co_return std::pair{e, g.context()};
}

TEST_P(GoErrGroup, TestCancelCause) {
  const Error doom("group_test: doomed");
  const std::vector<std::pair<std::vector<Error>, Error>> cases = {
      {{}, Error()}, {{Error()}, Error()}, {{doom}, doom}, {{doom, Error()}, doom}};
  for (const auto& [errs, want] : cases) {
    auto [err, ctx] = run(cancel_cause(errs));
    EXPECT_EQ(err, want);
    const Error why = cogo::cause(ctx);
    if (want) {
      EXPECT_TRUE(why.is(want)) << why;
    } else {
      EXPECT_EQ(why, cogo::errc::canceled) << why;
      EXPECT_FALSE(why.cause()) << why;
    }
  }
}

COGO_RUNTIME_TEST_SUITE(GoErrGroup);

}  // namespace
