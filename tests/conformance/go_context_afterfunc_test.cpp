// Go 1.23's src/context afterfunc_test.go and net_test.go, ported with their Go names.
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
