#include "cogo/after_func.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(AfterFuncTest, RunsOnceOnCancelOnAnotherThread) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto ran_on = std::make_shared<std::atomic<std::thread::id>>();
  auto runs = std::make_shared<std::atomic<int>>(0);
  cogo::test::Signal ran;
  auto stop = cogo::after_func(ctx, [=] {
    ran_on->store(std::this_thread::get_id());
    runs->fetch_add(1);
    ran.set();
  });
  cancel();
  cancel();
  ASSERT_TRUE(ran.wait_for());
  EXPECT_NE(ran_on->load(), std::this_thread::get_id());
  EXPECT_FALSE(stop.stop());
  // Another callback, registered after, runs after the first: then the count is final.
  cogo::test::Signal later;
  auto marker = cogo::after_func(ctx, [=] { later.set(); });
  ASSERT_TRUE(later.wait_for());
  EXPECT_EQ(runs->load(), 1);
}

TEST(AfterFuncTest, StopPreventsTheCallAndReportsItOnce) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::atomic<bool> ran{false};
  auto stop = cogo::after_func(ctx, [&] { ran = true; });
  EXPECT_TRUE(stop.stop());
  EXPECT_FALSE(stop.stop());
  cancel();
  // Another callback registered later runs; by then the stopped one would have too.
  cogo::test::Signal later;
  auto marker = cogo::after_func(ctx, [=] { later.set(); });
  ASSERT_TRUE(later.wait_for());
  EXPECT_FALSE(ran);
}

TEST(AfterFuncTest, DestroyingTheHandleStopsTheCall) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::atomic<bool> ran{false};
  { auto stop = cogo::after_func(ctx, [&] { ran = true; }); }
  cancel();
  cogo::test::Signal later;
  auto marker = cogo::after_func(ctx, [=] { later.set(); });
  ASSERT_TRUE(later.wait_for());
  EXPECT_FALSE(ran);
}

TEST(AfterFuncTest, DetachedCallRunsAfterTheHandleIsGone) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cogo::test::Signal done;
  {
    auto stop = cogo::after_func(ctx, [=] { done.set(); });
    stop.detach();
  }
  cancel();
  EXPECT_TRUE(done.wait_for());
}

TEST(AfterFuncTest, OnAContextThatCanNeverBeDoneStopReturnsTrue) {
  std::atomic<bool> ran{false};
  auto stop = cogo::after_func(cogo::background(), [&] { ran = true; });
  EXPECT_TRUE(stop.stop());  // Go: stop() on a never-done context stops f
  EXPECT_FALSE(stop.stop());
  EXPECT_FALSE(ran);
}

// Registers callbacks on the one worker of a scheduler (their home), so that they run
// there, one after another in registration order, however the context is cancelled.
template <class F>
cogo::Task<> on_home(F& register_them) {
  register_them();
  co_return;
}

TEST(AfterFuncTest, AnExceptionInTheCallbackIsReportedNotFatal) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cogo::test::Signal after;
  cogo::AfterFunc bad, good;
  auto register_them = [&] {
    bad = cogo::after_func(ctx, [] { throw std::runtime_error("callback failed"); });
    good = cogo::after_func(ctx, [=] { after.set(); });
  };
  cogo::Scheduler one({.workers = 1});
  one.block_on(on_home(register_them));
  testing::internal::CaptureStderr();
  cancel();  // from this thread: the callbacks still run on their home worker, in order
  ASSERT_TRUE(after.wait_for());
  // The throwing callback ran before the one that signalled.
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("callback failed"), std::string::npos) << err;
  EXPECT_NE(err.find("tests/unit/after_func_test.cpp"), std::string::npos) << err;
}

TEST(AfterFuncTest, MoveAssignStopsTheReplacedCall) {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  std::atomic<int> ran{0};
  cogo::test::Signal later;
  cogo::AfterFunc a, marker;
  auto register_them = [&] {
    a = cogo::after_func(ctx, [&] { ran += 1; });
    a = cogo::after_func(ctx, [&] { ran += 10; });
    marker = cogo::after_func(ctx, [=] { later.set(); });
  };
  cogo::Scheduler one({.workers = 1});
  one.block_on(on_home(register_them));
  // The callbacks run on their home worker in order: once the marker has run, so has
  // every callback registered before it.
  cancel();
  ASSERT_TRUE(later.wait_for());
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
