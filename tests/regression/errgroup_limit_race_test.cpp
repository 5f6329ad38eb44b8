// ErrGroup: regression tests.
//
// 1. A member whose failure cannot be recorded hangs wait(). errgroup_member
//    (include/cogo/errgroup.hpp:151-153; src/sync/errgroup.cpp finish() is never reached) turns an exception into an Error inside its
//    catch handler with Error::from_exception, which allocates (src/base/error.cpp:199
//    and :207). When memory is short - the very case where f itself failed with
//    bad_alloc - that allocation throws out of the handler and out of the coroutine:
//    st->finish() never runs, the wait group is never done, and wait() waits for ever.
//    The test makes f throw bad_alloc with the next operator new on its thread failing.
//
// 2. set_limit() racing go() breaks the limit for good. set_limit
//    (src/sync/errgroup.cpp:93-103) reads wg.count() == 0 and only then stores
//    unlimited_; go() counts itself (Pending: wg.add) and then reads unlimited_ with no
//    lock (make_gate, :15-17). A go() between the two starts a task without a gate while
//    set_limit succeeds, as if nothing were active; that task's finish() then reads
//    unlimited_ == false and frees a slot it never took (pass_slot_locked: --active_),
//    so active_ ends at -1 and a limit of 1 lets two tasks run at once from then on.
//    The other way round is worse: set_limit(-1) on a limited group racing go(), the
//    go() makes a gate under the old mode, then admit() (which waits for the lock that
//    set_limit holds) sees limit_ == -1, cannot start it (active_ < -1 is false) and
//    queues it; no finish() of an unlimited group ever opens a gate, so the task waits
//    at its gate for ever and wait() hangs. The window (between the count and the store)
//    is widened by wrapping WaitGroup::count() at link time with a pause after the real
//    call, as a preemption there would. set_limit() now marks the mode as changing
//    before it counts, and go() (which counts first) waits out that mark, so either
//    set_limit() sees the task or the task sees the new mode. Both tests failed before.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <optional>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/errgroup.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "support/test_support.hpp"
#include "support/watchdog.hpp"

#define COUNT _ZNK4cogo9WaitGroup5countEv
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

namespace {
std::atomic<bool> g_arm{false};
std::atomic<bool> g_paused{false};
std::atomic<bool> g_resume{false};
}  // namespace

extern "C" std::int64_t CAT(__real_, COUNT)(const cogo::WaitGroup* self);
extern "C" std::int64_t CAT(__wrap_, COUNT)(const cogo::WaitGroup* self) {
  const std::int64_t c = CAT(__real_, COUNT)(self);
  if (c == 0 && g_arm.exchange(false)) {
    g_paused.store(true);
    while (!g_resume.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return c;
}

namespace {

using namespace std::chrono_literals;
using cogo::Error;
using cogo::Task;

TEST(ErrGroupRegression, AMemberThatFailsWhenMemoryIsShortStillLetsWaitReturn) {
  cogo::test::Watchdog wd("bad_alloc member", 60s);
  // On the default scheduler, never destroyed: a wait that hangs fails the test and
  // is left behind.
  auto* g = new cogo::ErrGroup(cogo::background());
  g->go([] {
    // Memory is short: f fails, and so does the next allocation on this thread.
    static thread_local std::optional<cogo::test::FailAllocation> short_of_memory;
    short_of_memory.emplace(1);
    throw std::bad_alloc();
  });
  std::atomic<bool> waited{false};
  cogo::go([](cogo::ErrGroup* grp, std::atomic<bool>& w) -> Task<> {
    const Error err = co_await grp->wait();
    EXPECT_TRUE(err);
    w.store(true);
  }(g, waited));
  const bool ended = cogo::test::eventually([&] { return waited.load(); }, 5s);
  EXPECT_TRUE(ended) << "ErrGroup::wait() hangs after a member threw bad_alloc and the next "
                        "allocation failed too (errgroup.hpp:152: Error::from_exception throws "
                        "out of the catch handler; finish() never runs)";
  if (ended) delete g;
}

TEST(ErrGroupRegression, SetLimitRacingGoNeverLetsMoreTasksRunThanTheLimit) {
  cogo::test::Watchdog wd("set_limit/go race", 60s);
  cogo::Scheduler s({.workers = 2});
  cogo::ErrGroup g;
  auto hold = cogo::make_chan<int>();
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  auto member = [&running, &most](cogo::Chan<int> c) {
    return [&running, &most, c]() -> Task<> {
      const int now = running.fetch_add(1) + 1;
      int m = most.load();
      while (now > m && !most.compare_exchange_weak(m, now)) {
      }
      co_await c.recv();
      running.fetch_sub(1);
    };
  };

  // set_limit(1) on this thread, paused just after it has seen no task active.
  // COGO_TEST_NO_PAUSE=1 is the control: set_limit first, then go().
  const bool pause = std::getenv("COGO_TEST_NO_PAUSE") == nullptr;
  g_arm.store(pause);
  std::thread limiter([&] { g.set_limit(1); });
  if (pause) {
    while (!g_paused.load()) std::this_thread::sleep_for(100us);
  } else {
    limiter.join();
  }
  // go() between the count and the store of the new mode: it counts its task, then
  // waits for set_limit() to decide the mode.
  std::thread starter([&] { g.go(member(hold)); });
  std::this_thread::sleep_for(50ms);
  g_resume.store(true);
  if (pause) limiter.join();
  starter.join();
  hold.close();    // the first task ends, freeing a slot it never took
  s.block_on([&]() -> Task<> { co_await g.wait(); }());
  ASSERT_EQ(running.load(), 0);

  // Now with limit 1: two members that block until released.
  most.store(0);
  auto hold2 = cogo::make_chan<int>();
  g.go(member(hold2));
  g.go(member(hold2));
  std::this_thread::sleep_for(200ms);  // let whatever may start, start
  const int seen = most.load();
  hold2.close();
  s.block_on([&]() -> Task<> { co_await g.wait(); }());
  EXPECT_LE(seen, 1) << "a limit of 1 let " << seen << " tasks run at once";
}

TEST(ErrGroupRegression, RemovingTheLimitWhileGoRacesNeverStrandsATaskAtItsGate) {
  cogo::test::Watchdog wd("set_limit(-1)/go race", 60s);
  const bool pause = std::getenv("COGO_TEST_NO_PAUSE") == nullptr;
  auto* g = new cogo::ErrGroup;  // left to the default scheduler's tasks if it hangs
  g->set_limit(1);
  std::atomic<bool> ran{false};
  g_paused.store(false);
  g_resume.store(false);
  g_arm.store(pause);
  std::thread limiter([&] { g->set_limit(-1); });
  if (pause) {
    while (!g_paused.load()) std::this_thread::sleep_for(100us);
  } else {
    limiter.join();
  }
  // go() makes a gate (the group is still limited), then waits in admit() for the lock.
  std::thread starter([&] { g->go([&ran] { ran.store(true); }); });
  std::this_thread::sleep_for(50ms);
  g_resume.store(true);
  if (pause) limiter.join();
  starter.join();
  std::atomic<bool> waited{false};
  cogo::go([](cogo::ErrGroup* grp, std::atomic<bool>& w) -> Task<> {
    (void)co_await grp->wait();
    w.store(true);
  }(g, waited));
  const bool ended = cogo::test::eventually([&] { return waited.load(); }, 2s);
  EXPECT_TRUE(ran.load()) << "the member never ran: it waits at its gate";
  EXPECT_TRUE(ended) << "ErrGroup::wait() hangs";
  if (ended) delete g;
}

}  // namespace
