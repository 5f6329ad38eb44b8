// The leak checker catches a leaked task, timer and context, each named with its site,
// and honours its options.
#include "cogo/diag/leak_check.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "cogo/testing.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;

std::string here(int line) { return std::string(__FILE__) + ":" + std::to_string(line); }

Task<> stuck_forever(cogo::Chan<int> never) {
  auto v = co_await never.recv();
  (void)v;
}

class LeakCheckTest : public ::testing::Test {
 protected:
  void SetUp() override { baseline = cogo::leaks::Options().ignore_current().timeout(50ms); }
  cogo::Scheduler sched{cogo::SchedulerOptions{.workers = 2}};
  cogo::leaks::Options baseline;
};

TEST_F(LeakCheckTest, ALeakedTaskIsCaughtAndNamedWithItsStartSite) {
  auto never = cogo::make_chan<int>();
  const int line = __LINE__ + 1;
  sched.go("leaky", stuck_forever(never));
  const cogo::leaks::Report r = cogo::leaks::find_leaks(baseline);
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].name, "leaky");
  EXPECT_EQ(static_cast<int>(r.tasks[0].start_site.line()), line);
  const std::string text = r.describe();
  EXPECT_NE(text.find("1 task(s) leaked"), std::string::npos) << text;
  EXPECT_NE(text.find("\"leaky\" [chan receive"), std::string::npos) << text;
  EXPECT_NE(text.find("started by a thread at " + here(line)), std::string::npos) << text;
  never.close();
  EXPECT_TRUE(cogo::leaks::find_leaks(baseline).empty());
}

TEST_F(LeakCheckTest, ALeakedTimerIsCaughtAndNamedWithItsSite) {
  auto timer = std::make_unique<cogo::Timer>(sched.block_on([]() -> Task<cogo::Timer> {
    co_return cogo::Timer(1h);  // made on a worker: armed on this scheduler's clock
  }()));
  const cogo::leaks::Report r = cogo::leaks::find_leaks(baseline);
  ASSERT_EQ(r.timers.size(), 1u);
  EXPECT_EQ(r.timers[0].kind, "timer");
  EXPECT_EQ(static_cast<int>(r.timers[0].site.line()), __LINE__ - 5);
  EXPECT_GT(r.timers[0].due_in, 59min);
  EXPECT_NE(r.describe().find("timer leaked: timer made at " + here(__LINE__ - 7)), std::string::npos)
      << r.describe();
  timer->stop();
  EXPECT_TRUE(cogo::leaks::find_leaks(baseline).empty());
}

TEST_F(LeakCheckTest, ALeakedContextIsCaughtAndNamedWithItsSite) {
  const int line = __LINE__ + 1;
  auto kept = std::make_unique<cogo::Cancelable<cogo::CancelFunc>>(cogo::with_cancel(cogo::background()));
  const cogo::leaks::Report r = cogo::leaks::find_leaks(baseline);
  ASSERT_EQ(r.contexts.size(), 1u);
  EXPECT_EQ(static_cast<int>(r.contexts[0].site.line()), line);
  EXPECT_EQ(r.contexts[0].description, "context.Background.WithCancel");
  EXPECT_NE(r.describe().find("context leaked: context.Background.WithCancel, made at " + here(line)),
            std::string::npos)
      << r.describe();
  kept.reset();  // cancels
  EXPECT_TRUE(cogo::leaks::find_leaks(baseline).empty());
}

TEST_F(LeakCheckTest, ALeakedDeadlineIsBothAContextAndATimer) {
  const int line = __LINE__ + 1;
  auto kept = std::make_unique<cogo::Cancelable<cogo::CancelFunc>>(sched.block_on([]() -> Task<cogo::Cancelable<cogo::CancelFunc>> {
    co_return cogo::with_timeout(cogo::background(), 1h);
  }()));
  const cogo::leaks::Report r = cogo::leaks::find_leaks(baseline);
  ASSERT_EQ(r.contexts.size(), 1u);
  ASSERT_EQ(r.timers.size(), 1u);
  EXPECT_EQ(r.timers[0].kind, "context deadline");
  EXPECT_EQ(static_cast<int>(r.timers[0].site.line()), line + 1);
  kept.reset();
  EXPECT_TRUE(cogo::leaks::find_leaks(baseline).empty());
}

TEST_F(LeakCheckTest, IgnoredFunctionsAndCurrentTasksAreNotLeaks) {
  auto never = cogo::make_chan<int>();
  sched.go("before", stuck_forever(never));
  ASSERT_TRUE(cogo::test::eventually([] { return cogo::diag::tasks().size() >= 1; }));
  auto now = cogo::leaks::Options().ignore_current().timeout(20ms);
  EXPECT_TRUE(cogo::leaks::find_leaks(now).empty());
  sched.go("after", stuck_forever(never));
  EXPECT_EQ(cogo::leaks::find_leaks(now).tasks.size(), 1u);
  // Both started from this test's body: ignoring its function ignores both.
  auto by_function = cogo::leaks::Options().timeout(20ms).ignore_function("TestBody");
  EXPECT_TRUE(cogo::leaks::find_leaks(by_function).tasks.empty());
  never.close();
}

TEST_F(LeakCheckTest, ItWaitsForTasksThatAreEnding) {
  sched.go("ending", []() -> Task<> { co_await cogo::sleep(30ms); }());
  // Still running when the check starts; gone within the retry time.
  const auto r = cogo::leaks::find_leaks(cogo::leaks::Options(baseline).timeout(2s));
  EXPECT_TRUE(r.empty()) << r.describe();
}

TEST_F(LeakCheckTest, ItGivesUpAfterItsTimeout) {
  auto never = cogo::make_chan<int>();
  sched.go("stuck", stuck_forever(never));
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = cogo::leaks::find_leaks(cogo::leaks::Options(baseline).timeout(100ms));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.tasks.size(), 1u);
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 5s);
  never.close();
}

TEST_F(LeakCheckTest, ExpectNoLeaksFailsTheTestWithTheReport) {
  auto never = cogo::make_chan<int>();
  sched.go("caught", stuck_forever(never));
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    cogo::testing::expect_no_leaks(baseline);
  }
  ASSERT_EQ(results.size(), 1);
  EXPECT_TRUE(results.GetTestPartResult(0).nonfatally_failed());
  EXPECT_NE(std::string(results.GetTestPartResult(0).message()).find("\"caught\" [chan receive"),
            std::string::npos)
      << results.GetTestPartResult(0).message();
  never.close();
}

}  // namespace
