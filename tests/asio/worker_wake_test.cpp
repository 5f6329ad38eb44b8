// Workers that sleep inside their io_context (cogo/asio/io.hpp) wake for everything that
// concerns them, promptly, on real loopback sockets: an I/O completion, a cogo timer,
// a task pushed from another worker or thread. And the case a single io_context shared
// by all workers gets wrong: while some workers poll their io_context without blocking,
// a wake meant for a worker asleep in its own is never eaten by them, so a 5 ms sleep
// takes about 5 ms and no pipelined connection hangs.
#include "cogo/asio/io.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "asio/asio_support.hpp"
#include "cogo/asio/tcp.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync/wait_group.hpp"
#include "cogo/task.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using cogo::Task;
using cogo::asio::Conn;
using cogo::test::ConnPair;
using cogo::test::Signal;

class WorkerWakeTest : public cogo::test::RuntimeTest {
 protected:
  // Every worker of the fixture's scheduler is asleep (or about to be: in the idle set,
  // past its last look for work).
  bool all_asleep() {
    return cogo::test::eventually([&] { return sched().impl().idle_workers() == GetParam(); });
  }
};

// Generous bounds: the machine is shared; a lost wake-up shows as seconds, or never.
constexpr auto kPrompt = 200ms;

Task<> read_and_stamp(Conn& c, std::atomic<Clock::rep>& at, Signal done) {
  char b[8];
  auto r = co_await c.read(cogo::background(), boost::asio::buffer(b));
  EXPECT_FALSE(r.error) << r.error;
  at.store(Clock::now().time_since_epoch().count(), std::memory_order_release);
  done.set();
}

TEST_P(WorkerWakeTest, ASleepingWorkerWakesForAnIoCompletion) {
  ConnPair p = cogo::test::make_pair([this](auto t) { return run(std::move(t)); });
  for (int i = 0; i < 20; ++i) {
    std::atomic<Clock::rep> at{0};
    Signal done;
    sched().go(read_and_stamp(p.server, at, done));
    ASSERT_TRUE(until_waiting(1, cogo::detail::WaitReason::io_wait));
    ASSERT_TRUE(all_asleep());
    const auto sent = Clock::now();
    // Plain send(2) from this thread: nothing reaches the scheduler but the bytes.
    ASSERT_EQ(::send(p.client.socket().native_handle(), "12345678", 8, MSG_NOSIGNAL), 8);
    ASSERT_TRUE(done.wait_for());
    const auto took = Clock::time_point(Clock::duration(at.load(std::memory_order_acquire))) - sent;
    EXPECT_LT(took, kPrompt) << "round " << i;
  }
}

Task<> sleep_and_stamp(std::chrono::milliseconds d, std::atomic<Clock::rep>& at, Signal done) {
  co_await cogo::sleep(d);
  at.store(Clock::now().time_since_epoch().count(), std::memory_order_release);
  done.set();
}

TEST_P(WorkerWakeTest, AWorkerAsleepInItsIoContextWakesForATimer) {
  // I/O set up first, so that the workers sleep in their io_context, not their futex.
  ConnPair p = cogo::test::make_pair([this](auto t) { return run(std::move(t)); });
  for (int i = 0; i < 20; ++i) {
    std::atomic<Clock::rep> at{0};
    Signal done;
    const auto start = Clock::now();
    sched().go(sleep_and_stamp(5ms, at, done));
    ASSERT_TRUE(done.wait_for());
    const auto took = Clock::time_point(Clock::duration(at.load(std::memory_order_acquire))) - start;
    EXPECT_GE(took, 5ms);
    EXPECT_LT(took, 5ms + kPrompt) << "round " << i;
  }
}

Task<> stamp(std::atomic<Clock::rep>& at, Signal done) {
  at.store(Clock::now().time_since_epoch().count(), std::memory_order_release);
  done.set();
  co_return;
}

// Spawns `stamp` from a task, so that the push comes from one of the workers.
Task<> push_from_worker(std::atomic<Clock::rep>& at, Signal done, std::atomic<Clock::rep>& pushed) {
  pushed.store(Clock::now().time_since_epoch().count(), std::memory_order_release);
  cogo::go(stamp(at, done));
  co_return;
}

TEST_P(WorkerWakeTest, AWorkerAsleepInItsIoContextWakesForAPush) {
  ConnPair p = cogo::test::make_pair([this](auto t) { return run(std::move(t)); });
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(all_asleep());
    // From a plain thread, then from a worker (which a sleeping peer must see too).
    std::atomic<Clock::rep> at{0};
    Signal done;
    const auto start = Clock::now();
    sched().go(stamp(at, done));
    ASSERT_TRUE(done.wait_for());
    EXPECT_LT(Clock::time_point(Clock::duration(at.load())) - start, kPrompt) << "round " << i;

    ASSERT_TRUE(all_asleep());
    std::atomic<Clock::rep> at2{0}, pushed{0};
    Signal done2;
    sched().go(push_from_worker(at2, done2, pushed));
    ASSERT_TRUE(done2.wait_for());
    EXPECT_LT(Clock::duration(at2.load() - pushed.load()), kPrompt) << "round " << i;
  }
}

// Pipelined echo clients: each writes `depth` requests before reading the replies.
Task<> pipelined_echo(Conn c) {
  char buf[256];
  for (;;) {
    auto [n, err] = co_await c.read_some(cogo::background(), boost::asio::buffer(buf));
    if (err) co_return;
    auto w = co_await c.write(cogo::background(), boost::asio::buffer(buf, n));
    if (w.error) co_return;
  }
}
Task<> serve_all(cogo::asio::Listener& ln, int n) {
  for (int i = 0; i < n; ++i) {
    auto [c, err] = co_await ln.accept(cogo::background());
    if (err) co_return;
    cogo::go(pipelined_echo(std::move(c)));
  }
}
Task<> pipelined_client(std::string address, int depth, int rounds, std::atomic<int>& ok,
                        cogo::WaitGroup& wg) {
  auto [c, err] = co_await cogo::asio::dial(cogo::background(), address);
  bool good = !err;
  std::string req(16 * static_cast<std::size_t>(depth), 'q');
  std::string back(req.size(), '\0');
  for (int r = 0; r < rounds && good; ++r) {
    for (int d = 0; d < depth && good; ++d) {
      auto w = co_await c.write(cogo::background(), boost::asio::buffer(req.data() + 16 * d, 16));
      good = !w.error;
    }
    if (!good) break;
    auto rd = co_await c.read(cogo::background(), boost::asio::buffer(back));
    good = !rd.error;
  }
  if (good) ok.fetch_add(1, std::memory_order_relaxed);
  wg.done();
}
Task<> clients(std::string address, int n, int depth, int rounds, std::atomic<int>& ok, Signal done) {
  cogo::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) cogo::go(pipelined_client(address, depth, rounds, ok, wg));
  co_await wg.wait();
  done.set();
}

Task<Clock::duration> timed_sleep(std::chrono::milliseconds d) {
  const auto t0 = Clock::now();
  co_await cogo::sleep(d);
  co_return Clock::now() - t0;
}

TEST_P(WorkerWakeTest, PollingWorkersDoNotEatTheWakeOfOneAsleepInItsIoContext) {
  cogo::asio::Listener ln = run(cogo::test::listen_local());
  const int conns = 30;
  cogo::test::Watchdog watchdog("a pipelined connection hung", 60s);
  sched().go(serve_all(ln, conns));
  // The clients keep the workers busy polling their io_contexts between runs, while the
  // sleeps below need their worker woken at the right time.
  std::atomic<int> ok{0};
  Signal load_done;
  sched().go(clients(ln.address(), conns, 4, cogo::test::scaled(300), ok, load_done));
  int slow = 0;
  for (int i = 0; i < 40; ++i) {
    const Clock::duration took = run(timed_sleep(5ms));
    EXPECT_GE(took, 5ms);
    if (took > 5ms + kPrompt) ++slow;
  }
  EXPECT_EQ(slow, 0) << "5 ms sleeps that took over " << (5ms + kPrompt).count() << " ms";
  ASSERT_TRUE(load_done.wait_for(60s));
  EXPECT_EQ(ok.load(), conns) << "every pipelined connection finished";
  ln.close();
}

COGO_RUNTIME_TEST_SUITE(WorkerWakeTest);

}  // namespace
