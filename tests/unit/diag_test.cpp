// The task registry and dumps: what each task waits on, where, since when, and the
// await chain; dumps while many tasks run; the dump signal.
#include "cogo/diag.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/select.hpp"
#include "cogo/sync.hpp"
#include "cogo/task.hpp"
#include "cogo/timer.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;
using cogo::diag::TaskInfo;

// The lines where the helpers below wait; written by every task that runs them.
std::atomic<int> g_recv_line{0};
std::atomic<int> g_send_line{0};
std::atomic<int> g_lock_line{0};
std::atomic<int> g_select_line{0};

Task<> receive_one(cogo::Chan<int> in) {
  g_recv_line = __LINE__ + 1;
  auto v = co_await in.recv();
  (void)v;
}

// Two frames deep: the dump's chain must show both, innermost first.
Task<> outer_receiver(cogo::Chan<int> in) { co_await receive_one(in); }

Task<> send_one(cogo::Chan<int> out) {
  g_send_line = __LINE__ + 1;
  const bool sent = co_await out.send(1);
  (void)sent;
}

Task<> lock_once(cogo::Mutex& m) {
  g_lock_line = __LINE__ + 1;
  auto guard = co_await m.scoped_lock();
}

Task<> select_two(cogo::Chan<int> a, cogo::Chan<int> b) {
  g_select_line = __LINE__ + 1;
  auto r = co_await cogo::select(a.recv(), b.recv());
  (void)r;
}

const TaskInfo* find_named(const std::vector<TaskInfo>& list, const std::string& name) {
  auto it = std::find_if(list.begin(), list.end(), [&](const TaskInfo& t) { return t.name == name; });
  return it != list.end() ? &*it : nullptr;
}

std::size_t count_waiting(const std::vector<TaskInfo>& list) {
  return static_cast<std::size_t>(std::count_if(list.begin(), list.end(), [](const TaskInfo& t) {
    return t.state == cogo::diag::TaskState::waiting;
  }));
}

class DiagTest : public ::testing::Test {
 protected:
  cogo::Scheduler sched{cogo::SchedulerOptions{.workers = 2}};
};

TEST_F(DiagTest, EachWaitingTaskHasItsReasonSiteAndDuration) {
  auto in = cogo::make_chan<int>();
  auto out = cogo::make_chan<int>();
  auto a = cogo::make_chan<int>();
  auto b = cogo::make_chan<int>();
  cogo::Mutex m;
  ASSERT_TRUE(m.try_lock());
  const std::size_t before = cogo::num_tasks();
  const int go_line = __LINE__ + 1;
  sched.go("receiver", outer_receiver(in));
  sched.go("sender", send_one(out));
  sched.go("locker", lock_once(m));
  sched.go("selector", select_two(a, b));
  EXPECT_EQ(cogo::num_tasks(), before + 4);
  ASSERT_TRUE(cogo::test::eventually([&] { return count_waiting(cogo::diag::tasks()) >= 4; }));
  std::this_thread::sleep_for(30ms);
  const auto list = cogo::diag::tasks();

  const TaskInfo* r = find_named(list, "receiver");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->wait_reason, "chan receive");
  EXPECT_EQ(static_cast<int>(r->wait_site.line()), g_recv_line.load());
  EXPECT_STREQ(r->start_site.file_name(), __FILE__);
  EXPECT_EQ(static_cast<int>(r->start_site.line()), go_line);
  EXPECT_GE(r->waiting_for, 20ms);
  EXPECT_EQ(r->parent_id, 0u);
  ASSERT_EQ(r->chain.size(), 2u);  // outermost first
  EXPECT_NE(r->chain[0].name.find("outer_receiver"), std::string::npos) << r->chain[0].name;
  EXPECT_NE(r->chain[1].name.find("receive_one"), std::string::npos) << r->chain[1].name;

  const TaskInfo* s = find_named(list, "sender");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->wait_reason, "chan send");
  EXPECT_EQ(static_cast<int>(s->wait_site.line()), g_send_line.load());
  const TaskInfo* l = find_named(list, "locker");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->wait_reason, "sync.Mutex.Lock");
  EXPECT_EQ(static_cast<int>(l->wait_site.line()), g_lock_line.load());
  const TaskInfo* sel = find_named(list, "selector");
  ASSERT_NE(sel, nullptr);
  EXPECT_EQ(sel->wait_reason, "select");
  EXPECT_EQ(static_cast<int>(sel->wait_site.line()), g_select_line.load());

  in.close();
  out.close();
  m.unlock();
  a.close();
  ASSERT_TRUE(cogo::test::eventually([&] { return cogo::num_tasks() == before; }));
  EXPECT_EQ(find_named(cogo::diag::tasks(), "receiver"), nullptr);
}

TEST_F(DiagTest, ParentIsTheTaskThatCalledGo) {
  auto in = cogo::make_chan<int>();
  sched.go("parent", [](cogo::Chan<int> c) -> Task<> {
    cogo::go("child", receive_one(c));
    co_await receive_one(c);
  }(in));
  ASSERT_TRUE(cogo::test::eventually([&] { return count_waiting(cogo::diag::tasks()) >= 2; }));
  const auto list = cogo::diag::tasks();
  const TaskInfo* parent = find_named(list, "parent");
  const TaskInfo* child = find_named(list, "child");
  ASSERT_NE(parent, nullptr);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->parent_id, parent->id);
  std::ostringstream os;
  cogo::diag::dump_tasks(os, list, 2);
  EXPECT_NE(os.str().find("started by task " + std::to_string(parent->id) + " \"parent\""),
            std::string::npos)
      << os.str();
  in.close();
}

TEST_F(DiagTest, LevelOneGroupsByWhereTasksStartAndWaitLargestFirst) {
  auto in = cogo::make_chan<int>();
  auto out = cogo::make_chan<int>();
  for (int i = 0; i < 5; ++i) sched.go("r", receive_one(in));
  for (int i = 0; i < 2; ++i) sched.go("s", send_one(out));
  ASSERT_TRUE(cogo::test::eventually([&] { return count_waiting(cogo::diag::tasks()) >= 7; }));
  std::ostringstream os;
  cogo::diag::dump_tasks(os, 1);
  const std::string d = os.str();
  EXPECT_NE(d.find("tasks: total "), std::string::npos);
  const auto five = d.find("5 [chan receive]\n#\twaiting at " + std::string(__FILE__) + ":" +
                           std::to_string(g_recv_line.load()));
  const auto two = d.find("2 [chan send]\n#\twaiting at " + std::string(__FILE__) + ":" +
                          std::to_string(g_send_line.load()));
  EXPECT_NE(five, std::string::npos) << d;
  EXPECT_NE(two, std::string::npos) << d;
  EXPECT_LT(five, two) << "largest group first\n" << d;
  in.close();
  out.close();
}

TEST_F(DiagTest, LevelTwoShowsEachTaskGoStyleWithItsContext) {
  auto in = cogo::make_chan<int>();
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  sched.go("order-worker", [](cogo::Context c, cogo::Chan<int> ch) -> Task<> {
    cogo::diag::bind_context(c);
    co_await outer_receiver(ch);
  }(ctx, in));
  ASSERT_TRUE(cogo::test::eventually([&] { return count_waiting(cogo::diag::tasks()) >= 1; }));
  std::ostringstream os;
  cogo::diag::dump_tasks(os, 2);
  const std::string d = os.str();
  EXPECT_NE(d.find("\"order-worker\" [chan receive, "), std::string::npos) << d;
  // Innermost first, with the wait site under it.
  const auto inner = d.find("receive_one(cogo::Chan<int>)\n      " + std::string(__FILE__) + ":" +
                            std::to_string(g_recv_line.load()));
  const auto outer = d.find("outer_receiver(cogo::Chan<int>)");
  EXPECT_NE(inner, std::string::npos) << d;
  EXPECT_NE(outer, std::string::npos) << d;
  EXPECT_LT(inner, outer);
  EXPECT_NE(d.find("context: context.Background.WithCancel"), std::string::npos) << d;
  in.close();
}

TEST_F(DiagTest, DumpsAreSafeWhileAHundredThousandTasksRun) {
  const int n = cogo::test::scaled(100'000);
  auto gate = cogo::make_chan<int>();
  cogo::WaitGroup wg;
  wg.add(n);
  std::atomic<bool> stop{false};
  // Half the tasks churn (start, yield, end) while the dumps run; half wait on a gate.
  std::thread spawner([&] {
    for (int i = 0; i < n; ++i) {
      if (i % 2 == 0) {
        sched.go("waiter", [](cogo::Chan<int> g, cogo::WaitGroup& w) -> Task<> {
          auto v = co_await g.recv();
          (void)v;
          w.done();
        }(gate, wg));
      } else {
        sched.go("churner", [](cogo::WaitGroup& w) -> Task<> {
          co_await cogo::yield();
          w.done();
        }(wg));
      }
    }
    stop = true;
  });
  int dumps = 0;
  std::size_t longest = 0;
  while (!stop.load() || dumps < 3) {
    std::ostringstream os;
    cogo::diag::dump_tasks(os, dumps % 2 + 1);
    longest = std::max<std::size_t>(longest, os.str().size());
    EXPECT_NE(os.str().find("tasks: total "), std::string::npos);
    ++dumps;
  }
  spawner.join();
  ASSERT_TRUE(cogo::test::eventually([&] {
    return count_waiting(cogo::diag::tasks()) >= static_cast<std::size_t>(n / 2);
  }));
  const auto list = cogo::diag::tasks();
  EXPECT_EQ(list.size(), static_cast<std::size_t>(n / 2));
  EXPECT_EQ(cogo::num_tasks(), static_cast<std::size_t>(n / 2));
  gate.close();
  sched.block_on(wg.wait());
  EXPECT_GE(dumps, 3);
  EXPECT_GT(longest, 0u);
}

TEST_F(DiagTest, TheDumpSignalWritesALevelTwoDumpToStderr) {
  auto in = cogo::make_chan<int>();
  sched.go("signalled", receive_one(in));
  ASSERT_TRUE(cogo::test::eventually([&] { return count_waiting(cogo::diag::tasks()) >= 1; }));
  char path[] = "/tmp/cogo_dump_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  cogo::diag::install_dump_signal(SIGUSR1);
  std::raise(SIGUSR1);
  std::string text;
  const bool seen = cogo::test::eventually([&] {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    return text.find("\"signalled\" [chan receive") != std::string::npos;
  });
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  ::unlink(path);
  EXPECT_TRUE(seen) << text;
  in.close();
}

}  // namespace
