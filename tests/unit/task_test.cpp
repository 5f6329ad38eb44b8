#include "cogo/task.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Task;

Task<> set_flag(bool& flag) {
  flag = true;
  co_return;
}

Task<int> forty_two() { co_return 42; }

Task<int> add_one(int x) { co_return co_await forty_two() + x - 42 + 1; }

Task<std::unique_ptr<int>> boxed(int v) { co_return std::make_unique<int>(v); }

Task<int> thrower() {
  throw std::runtime_error("task failed");
  co_return 0;
}

Task<std::string> catches() {
  try {
    co_await thrower();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "not thrown";
}

Task<> child() { co_return; }

Task<long> many_children(long n) {
  long done = 0;
  for (long i = 0; i < n; ++i) {
    co_await child();
    ++done;
  }
  co_return done;
}

Task<int> depth(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

TEST(TaskTest, IsLazyUntilAwaited) {
  bool flag = false;
  Task<> t = set_flag(flag);
  EXPECT_FALSE(flag);
  cogo::sync_wait(std::move(t));
  EXPECT_TRUE(flag);
}

TEST(TaskTest, DestroyingAnUnstartedTaskRunsNothing) {
  bool flag = false;
  { Task<> t = set_flag(flag); }
  EXPECT_FALSE(flag);
}

TEST(TaskTest, ReturnsValuesThroughAwaitChains) {
  EXPECT_EQ(cogo::sync_wait(forty_two()), 42);
  EXPECT_EQ(cogo::sync_wait(add_one(10)), 11);
  auto p = cogo::sync_wait(boxed(7));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 7);
}

TEST(TaskTest, ExceptionsPropagateThroughCoAwaitAndSyncWait) {
  EXPECT_EQ(cogo::sync_wait(catches()), "caught: task failed");
  EXPECT_THROW(cogo::sync_wait(thrower()), std::runtime_error);
}

// Each co_await of a child returns through the resume loop: a million of them in a loop,
// or ten thousand nested, use constant stack, in every build (sanitizers included).
TEST(TaskTest, AwaitLoopsDoNotGrowTheStack) {
  EXPECT_EQ(cogo::sync_wait(many_children(1'000'000)), 1'000'000);
}

TEST(TaskTest, DeepAwaitChainsDoNotGrowTheStack) { EXPECT_EQ(cogo::sync_wait(depth(10000)), 10000); }

TEST(TaskTest, EmptyTasksAreRefused) {
  EXPECT_THROW(cogo::go(Task<>()), cogo::usage_error);
  Task<int> empty;
  EXPECT_THROW(cogo::sync_wait(empty), cogo::usage_error);
}

Task<std::thread::id> where_am_i() { co_return std::this_thread::get_id(); }

TEST(TaskTest, SyncWaitRunsOnTheCallingThread) {
  EXPECT_EQ(cogo::sync_wait(where_am_i()), std::this_thread::get_id());
}

class TaskRuntimeTest : public cogo::test::RuntimeTest {};

Task<> count_to(std::atomic<int>& n, int to, cogo::WaitGroup& wg) {
  for (int i = 0; i < to; ++i) n.fetch_add(1);
  wg.done();
  co_return;
}

Task<> spawn_all(std::atomic<int>& n, cogo::WaitGroup& wg) {
  for (int i = 0; i < 1000; ++i) {
    wg.add(1);
    cogo::go(count_to(n, 10, wg));
  }
  co_await wg.wait();
}

TEST_P(TaskRuntimeTest, GoFromATaskStartsOnTheSameScheduler) {
  std::atomic<int> n{0};
  cogo::WaitGroup wg;
  run(spawn_all(n, wg));
  EXPECT_EQ(n.load(), 10000);
}

TEST_P(TaskRuntimeTest, ACoroutineLambdasParametersLiveInItsFrame) {
  auto out = cogo::make_chan<int>(1);
  auto big = std::make_shared<std::string>(1000, 'x');
  sched().go(std::string("lambda"), [](cogo::Chan<int> ch, std::shared_ptr<std::string> s) -> Task<> {
    co_await cogo::yield();
    (void)co_await ch.send(static_cast<int>(s->size()));
  }(out, big));
  big.reset();
  auto v = run(out.recv());
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 1000);
}

TEST(TaskTest, GoWithACallableKeepsItsCapturesAliveForTheWholeTask) {
  auto out = cogo::make_chan<int>(1);
  auto big = std::make_shared<std::string>(500, 'x');
  auto body = [out, big]() -> Task<> {
    co_await cogo::yield();
    (void)co_await out.send(static_cast<int>(big->size()));
  };
  cogo::go(std::move(body));
  big.reset();  // the callable's copy keeps the string alive
  auto v = cogo::sync_wait(out.recv());
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 500);
}

Task<> spinner(std::atomic<bool>& stop, std::atomic<long>& spins) {
  while (!stop.load()) {
    spins.fetch_add(1);
    co_await cogo::yield();
  }
}

Task<> stopper(std::atomic<bool>& stop) {
  stop.store(true);
  co_return;
}

TEST_P(TaskRuntimeTest, YieldLetsOtherTasksRun) {
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  sched().go(spinner(stop, spins));
  sched().go(stopper(stop));
  EXPECT_TRUE(cogo::test::eventually([&] { return sched().live_tasks() == 0; }));
  EXPECT_TRUE(stop.load());
}

Task<> fails_in_background() {
  throw std::runtime_error("nobody awaits me");
  co_return;
}

TEST_P(TaskRuntimeTest, AnExceptionEscapingARootTaskIsReportedWithItsNameAndSite) {
  testing::internal::CaptureStderr();
  sched().go(std::string("doomed"), fails_in_background());
  ASSERT_TRUE(cogo::test::eventually([&] { return sched().live_tasks() == 0; }));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("\"doomed\""), std::string::npos) << err;
  EXPECT_NE(err.find("tests/unit/task_test.cpp"), std::string::npos) << err;
  EXPECT_NE(err.find("nobody awaits me"), std::string::npos) << err;
}

// go(name, callable): the name reaches diagnostics, and the callable lives as long as
// the task, as with go(callable).
TEST_P(TaskRuntimeTest, GoWithANameAndACallable) {
  auto out = cogo::make_chan<int>(1);
  auto big = std::make_shared<std::string>(300, 'x');
  testing::internal::CaptureStderr();
  run([](cogo::Chan<int> ch, std::shared_ptr<std::string> s) -> Task<> {
    auto body = [ch, s]() -> Task<> {
      co_await cogo::yield();
      (void)co_await ch.send(static_cast<int>(s->size()));
    };
    cogo::go("sized-sender", std::move(body));
    auto doomed = []() -> Task<> {
      throw std::runtime_error("named callable failed");
      co_return;
    };
    cogo::go(std::string("doomed-callable"), doomed);
    co_return;
  }(out, big));
  big.reset();  // the callable's copy keeps the string alive
  EXPECT_EQ(run(out.recv()), 300);
  ASSERT_TRUE(cogo::test::eventually([&] { return sched().live_tasks() == 0; }));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("\"doomed-callable\""), std::string::npos) << err;
  EXPECT_NE(err.find("named callable failed"), std::string::npos) << err;
}

COGO_RUNTIME_TEST_SUITE(TaskRuntimeTest);

}  // namespace
