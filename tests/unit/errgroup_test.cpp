#include "cogo/errgroup.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "cogo/chan.hpp"
#include "cogo/select.hpp"
#include "support/runtime_fixture.hpp"

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

COGO_RUNTIME_TEST_SUITE(ErrGroupTest);

}  // namespace
