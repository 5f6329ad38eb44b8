#include "cogo/select.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Task;
using cogo::detail::WaitReason;

class SelectTest : public cogo::test::RuntimeTest {};

TEST_P(SelectTest, ReturnsTheReadyCaseAndItsValue) {
  auto a = cogo::make_chan<int>(1);
  auto b = cogo::make_chan<std::string>(1);
  (void)b.try_send("hi");
  auto r = run(cogo::select(a.recv(), b.recv()));
  ASSERT_EQ(r.index(), 1u);
  EXPECT_EQ(std::get<1>(r), "hi");
}

TEST_P(SelectTest, DefaultCaseWhenNothingIsReady) {
  auto a = cogo::make_chan<int>();
  auto r = run(cogo::select(a.recv(), cogo::default_case));
  EXPECT_EQ(r.index(), 1u);
  auto full = cogo::make_chan<int>(1);
  (void)full.try_send(1);
  auto s = run(cogo::select(full.send(2), cogo::default_case));
  EXPECT_EQ(s.index(), 1u);
  EXPECT_EQ(full.size(), 1u);  // the default case sent nothing
}

TEST_P(SelectTest, WaitsForTheFirstCaseToBecomeReady) {
  auto a = cogo::make_chan<int>();
  auto b = cogo::make_chan<int>();
  auto out = cogo::make_chan<std::size_t>(1);
  sched().go([](Chan<int> x, Chan<int> y, Chan<std::size_t> o) -> Task<> {
    auto r = co_await cogo::select(x.recv(), y.recv());
    (void)co_await o.send(r.index());
  }(a, b, out));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  EXPECT_TRUE(run(b.send(7)));
  EXPECT_EQ(run(out.recv()), 1u);
  EXPECT_FALSE(a.try_send(1)) << "the losing case must have left the channel";
}

TEST_P(SelectTest, ContextDoneWins) {
  auto a = cogo::make_chan<int>();
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto out = cogo::make_chan<cogo::Error>(1);
  sched().go([](Chan<int> x, cogo::Context c, Chan<cogo::Error> o) -> Task<> {
    auto r = co_await cogo::select(x.recv(), c.done());
    (void)co_await o.send(r.index() == 1 ? std::get<1>(r) : cogo::Error("wrong case"));
  }(a, ctx, out));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  cancel();
  auto err = run(out.recv());
  ASSERT_TRUE(err);
  EXPECT_TRUE(err->is(cogo::errc::canceled)) << *err;
}

TEST_P(SelectTest, AnAfterCaseThatLosesLeavesNoTimerArmed) {
  auto a = cogo::make_chan<int>();
  auto won = cogo::make_chan<std::size_t>(1);
  auto& timers = sched().impl().timers();
  const std::size_t before = timers.armed();
  sched().go([](Chan<int> x, Chan<std::size_t> out) -> Task<> {
    auto s = co_await cogo::select(x.recv(), cogo::after(1h));
    (void)co_await out.send(s.index());
  }(a, won));
  // The select has nothing ready, so it waits with its after(1h) armed...
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  // (It is marked waiting just before it registers its cases.)
  EXPECT_TRUE(cogo::test::eventually([&] { return timers.armed() == before + 1; }));
  // ...until the send wins, and the timer leaves with the select.
  EXPECT_TRUE(cogo::sync_wait(a.send(1)));
  EXPECT_EQ(run(won.recv()), std::optional<std::size_t>(0));
  EXPECT_EQ(timers.armed(), before);
}

TEST_P(SelectTest, AfterFiresWhenNothingElseDoes) {
  auto a = cogo::make_chan<int>();
  const auto start = std::chrono::steady_clock::now();
  auto r = run(cogo::select(a.recv(), cogo::after(5ms)));
  EXPECT_EQ(r.index(), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
}

TEST_P(SelectTest, TimerRecvIsACase) {
  cogo::Timer t(1ms);
  auto a = cogo::make_chan<int>();
  auto r = run(cogo::select(a.recv(), t.recv()));
  EXPECT_EQ(r.index(), 1u);
  EXPECT_FALSE(t.stop()) << "the select received the value";
}

TEST_P(SelectTest, SendCaseHandsItsValueOnlyWhenItWins) {
  auto ready = cogo::make_chan<int>(1);
  (void)ready.try_send(1);
  auto never = cogo::make_chan<std::unique_ptr<int>>();
  auto value = std::make_unique<int>(9);
  auto r = run(cogo::select(ready.recv(), never.send(std::move(value))));
  EXPECT_EQ(r.index(), 0u);
  ASSERT_TRUE(value) << "a losing send case must not consume its value";
  EXPECT_EQ(*value, 9);
}

TEST_P(SelectTest, SameChannelTwiceInOneSelect) {
  auto c = cogo::make_chan<int>();
  auto out = cogo::make_chan<std::size_t>(1);
  sched().go([](Chan<int> ch, Chan<std::size_t> o) -> Task<> {
    auto r = co_await cogo::select(ch.recv(), ch.recv());
    (void)co_await o.send(r.index());
  }(c, out));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  EXPECT_TRUE(run(c.send(3)));
  auto idx = run(out.recv());
  ASSERT_TRUE(idx);
  EXPECT_LT(*idx, 2u);
}

TEST_P(SelectTest, ChoosesUniformlyAmongReadyCases) {
  // Three always-ready channels; each case should win about a third of the time.
  constexpr int kTrials = 30000;
  auto a = cogo::make_chan<int>(1), b = cogo::make_chan<int>(1), c = cogo::make_chan<int>(1);
  auto counts = run([](Chan<int> x, Chan<int> y, Chan<int> z) -> Task<std::array<int, 3>> {
    std::array<int, 3> n{};
    for (int i = 0; i < kTrials; ++i) {
      (void)x.try_send(0);
      (void)y.try_send(0);
      (void)z.try_send(0);
      auto r = co_await cogo::select(x.recv(), y.recv(), z.recv());
      ++n[r.index()];
    }
    co_return n;
  }(a, b, c));
  // Binomial: mean n/3, sd sqrt(n * 1/3 * 2/3); allow 6 sd.
  const double mean = kTrials / 3.0, sd = std::sqrt(kTrials * (1.0 / 3) * (2.0 / 3));
  for (int k : counts) EXPECT_NEAR(k, mean, 6 * sd) << counts[0] << " " << counts[1] << " " << counts[2];
}

// An adaptor from another coroutine library may call await_ready() alone, call it twice,
// or drop the awaiter after it: no channel lock may be left held (each second call below
// would spin on it forever, and the sends after would never get it).
TEST_P(SelectTest, AwaitersHoldNoLockBetweenAwaitReadyAndAwaitSuspend) {
  cogo::test::Watchdog dog("an awaiter left a channel locked after await_ready()");
  auto unbuffered = cogo::make_chan<int>();
  auto full = cogo::make_chan<int>(1);
  ASSERT_TRUE(full.try_send(1));
  {
    auto recv = unbuffered.recv().operator co_await();
    EXPECT_FALSE(recv.await_ready());
    EXPECT_FALSE(recv.await_ready());
    auto send = full.send(2).operator co_await();
    EXPECT_FALSE(send.await_ready());
    EXPECT_FALSE(send.await_ready());
    auto sel = cogo::select(unbuffered.recv(), full.send(3));
    EXPECT_FALSE(sel.await_ready());
    EXPECT_FALSE(sel.await_ready());
    auto with_default = cogo::select(unbuffered.recv(), cogo::default_case);
    EXPECT_TRUE(with_default.await_ready());  // the default case, after a locked look
    auto again = cogo::select(unbuffered.recv(), full.send(4), cogo::default_case);
    EXPECT_TRUE(again.await_ready());
  }  // all dropped without suspending
  // Both channels still work, and nothing the dropped awaiters saw was taken or left.
  EXPECT_EQ(full.size(), 1u);
  EXPECT_FALSE(unbuffered.try_send(5)) << "a dropped receiver was left registered";
  sched().go([](Chan<int> c) -> Task<> { (void)co_await c.send(6); }(unbuffered));
  EXPECT_EQ(run(unbuffered.recv()), 6);
  EXPECT_EQ(run(full.recv()), 1);
  EXPECT_TRUE(run(full.send(7)));
  EXPECT_EQ(run(full.recv()), 7);
}

Task<> forever(bool& passed) {
  co_await cogo::select();
  passed = true;  // never reached
}

TEST(SelectNoCasesTest, WaitsForever) {
  // Driven by hand: it suspends, stays suspended, and can be destroyed as it is.
  bool passed = false;
  auto h = forever(passed).release();
  h.resume();
  EXPECT_FALSE(h.done());
  EXPECT_FALSE(passed);
  h.destroy();
}

COGO_RUNTIME_TEST_SUITE(SelectTest);

}  // namespace
