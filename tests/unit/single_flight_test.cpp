#include "cogo/sync/single_flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/error.hpp"
#include "cogo/sync/wait_group.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using cogo::Chan;
using cogo::Error;
using cogo::Task;
using cogo::detail::WaitReason;
using Group = cogo::SingleFlight<std::string, std::string>;

class SingleFlightTest : public cogo::test::RuntimeTest {};

TEST_P(SingleFlightTest, TestDo) {
  Group g;
  auto fn = []() -> Task<std::string> { co_return "bar"; };
  auto r = run(g.run("key", fn));
  EXPECT_EQ(r.value, "bar");
  EXPECT_FALSE(r.shared);
  // A plain function works too.
  auto plain = [] { return std::string("baz"); };
  EXPECT_EQ(run(g.run("key", plain)).value, "baz");
}

TEST_P(SingleFlightTest, TestDoErr) {
  // An error carried in the value...
  cogo::SingleFlight<std::string, Error> ge;
  const Error some("some error");
  auto fails = [some] { return some; };
  EXPECT_EQ(run(ge.run("key", fails)).value, some);
  // ...and an exception, which reaches the caller.
  Group g;
  auto throws = []() -> Task<std::string> {
    throw std::runtime_error("some error");
    co_return "";
  };
  EXPECT_THROW(run(g.run("key", throws)), std::runtime_error);
}

// Go's TestDoDupSuppress: callers that come while a call is in flight share it. Here the
// call is held until every other caller is waiting for it, so exactly one runs.
TEST_P(SingleFlightTest, TestDoDupSuppress) {
  constexpr int n = 10;
  Group g;
  auto c = cogo::make_chan<std::string>(1);
  std::atomic<int> calls{0}, shared{0}, wrong{0};
  auto fn = [c, &calls]() -> Task<std::string> {
    calls.fetch_add(1);
    auto v = co_await c.recv();
    (void)co_await c.send(*v);  // pump: available to any later call
    co_return *v;
  };
  cogo::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    sched().go([](Group& gr, decltype(fn) f, std::atomic<int>& sh, std::atomic<int>& bad,
                  cogo::WaitGroup& w) -> Task<> {
      auto r = co_await gr.run("key", f);
      if (r.value != "bar") bad.fetch_add(1);
      if (r.shared) sh.fetch_add(1);
      w.done();
    }(g, fn, shared, wrong, wg));
  }
  ASSERT_TRUE(until_waiting(1, WaitReason::chan_receive));   // one caller runs fn
  ASSERT_TRUE(until_waiting(n - 1, WaitReason::task_await));  // the others wait for it
  EXPECT_TRUE(run(c.send("bar")));
  run(wg.wait());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(shared.load(), n);  // the runner's value was shared too
}

// Go's TestForget: after forget(), a new call runs; the old one ending must not remove
// the new one, which a third caller then joins.
TEST_P(SingleFlightTest, TestForget) {
  cogo::SingleFlight<std::string, int> g;
  auto first_started = cogo::make_chan<int>(), unblock_first = cogo::make_chan<int>(),
       first_finished = cogo::make_chan<int>(), unblock_second = cogo::make_chan<int>();
  auto results = cogo::make_chan<int>(3);
  auto first = [first_started, unblock_first, first_finished]() -> Task<int> {
    first_started.close();
    (void)co_await unblock_first.recv();
    first_finished.close();
    co_return 1;
  };
  auto second = [unblock_second]() -> Task<int> {
    (void)co_await unblock_second.recv();
    co_return 2;
  };
  auto third = []() -> Task<int> { co_return 3; };
  auto caller = [](cogo::SingleFlight<std::string, int>& gr, auto f, Chan<int> out) -> Task<> {
    auto r = co_await gr.run("key", f);
    (void)co_await out.send(r.value);
  };
  sched().go(caller(g, first, results));
  (void)run(first_started.recv());
  g.forget("key");
  sched().go(caller(g, second, results));
  ASSERT_TRUE(until_waiting(2, WaitReason::chan_receive));  // the second runs, beside the first
  unblock_first.close();
  (void)run(first_finished.recv());
  EXPECT_EQ(run(results.recv()), 1);
  sched().go(caller(g, third, results));
  ASSERT_TRUE(until_waiting(1, WaitReason::task_await));  // the third joined the second
  unblock_second.close();
  EXPECT_EQ(run(results.recv()), 2);
  EXPECT_EQ(run(results.recv()), 2) << "the third call should share the second's result";
}

// Go's TestPanicDo: an exception reaches every caller that shared the call, and nobody
// hangs.
TEST_P(SingleFlightTest, TestPanicDo) {
  cogo::test::Watchdog dog("TestPanicDo: a caller hung");
  constexpr int n = 5;
  Group g;
  auto gate = cogo::make_chan<int>();
  auto fn = [gate]() -> Task<std::string> {
    (void)co_await gate.recv();
    throw std::runtime_error("invalid memory address or nil pointer dereference");
  };
  std::atomic<int> caught{0};
  cogo::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    sched().go([](Group& gr, decltype(fn) f, std::atomic<int>& k, cogo::WaitGroup& w) -> Task<> {
      try {
        (void)co_await gr.run("key", f);
      } catch (const std::runtime_error&) {
        k.fetch_add(1);
      }
      w.done();
    }(g, fn, caught, wg));
  }
  ASSERT_TRUE(until_waiting(n - 1, WaitReason::task_await));
  gate.close();
  run(wg.wait());
  EXPECT_EQ(caught.load(), n);
}

TEST_P(SingleFlightTest, DifferentKeysRunApart) {
  cogo::SingleFlight<int, int> g;
  auto gate = cogo::make_chan<int>();
  auto results = cogo::make_chan<int>(2);
  auto blocked = [gate]() -> Task<int> {
    (void)co_await gate.recv();
    co_return 1;
  };
  sched().go([](cogo::SingleFlight<int, int>& gr, decltype(blocked) f, Chan<int> out) -> Task<> {
    auto r = co_await gr.run(1, f);
    (void)co_await out.send(r.value);
  }(g, blocked, results));
  ASSERT_TRUE(until_waiting(1, WaitReason::chan_receive));
  auto other = [] { return 2; };
  auto r = run(g.run(2, other));  // not held up by key 1
  EXPECT_EQ(r.value, 2);
  EXPECT_FALSE(r.shared);
  gate.close();
  EXPECT_EQ(run(results.recv()), 1);
}

// Callers racing on a few keys from many tasks and threads: each gets the outcome of
// exactly one execution, and an execution whose value went to several callers says so.
TEST_P(SingleFlightTest, EveryCallerSharesExactlyOneExecution) {
  cogo::SingleFlight<int, int> g;
  std::atomic<int> next_id{0};
  std::mutex mu;
  std::map<int, int> receivers;     // execution id -> callers that got it
  std::map<int, bool> runner_saw;   // execution id -> `shared` as its runner saw it
  const int per_caller = cogo::test::scaled(300);
  constexpr int kTasks = 8, kThreads = 2;
  auto fn = [&next_id]() -> Task<int> {
    const int id = next_id.fetch_add(1);
    co_await cogo::yield();  // stay in flight a little while
    co_return id;
  };
  auto record = [&](int id, bool shared) {
    std::lock_guard<std::mutex> lk(mu);
    ++receivers[id];
    if (shared) runner_saw[id] = true;
  };
  cogo::WaitGroup wg;
  wg.add(kTasks);
  for (int t = 0; t < kTasks; ++t) {
    sched().go([](cogo::SingleFlight<int, int>& gr, decltype(fn) f, decltype(record)& rec, int n,
                  int key, cogo::WaitGroup& w) -> Task<> {
      for (int i = 0; i < n; ++i) {
        auto r = co_await gr.run(key, f);
        rec(r.value, r.shared);
      }
      w.done();
    }(g, fn, record, per_caller, t % 3, wg));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_caller; ++i) {
        auto r = cogo::sync_wait(g.run(t % 3, fn));
        record(r.value, r.shared);
      }
    });
  }
  for (auto& th : threads) th.join();
  run(wg.wait());
  int total = 0;
  for (const auto& [id, count] : receivers) {
    total += count;
    EXPECT_EQ(runner_saw[id], count > 1) << "execution " << id << " went to " << count;
  }
  EXPECT_EQ(total, (kTasks + kThreads) * per_caller);
  EXPECT_EQ(static_cast<int>(receivers.size()), next_id.load());  // every execution was received
}

COGO_RUNTIME_TEST_SUITE(SingleFlightTest);

}  // namespace
