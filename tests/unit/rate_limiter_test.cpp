#include "cogo/sync/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <system_error>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/manual_clock.hpp"
#include "cogo/sync/wait_group.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Chan;
using cogo::Error;
using cogo::RateLimiter;
using cogo::Task;
using time_point = RateLimiter::time_point;
using duration = RateLimiter::duration;

constexpr duration d = 100ms;

// x/time/rate's tests name instants t0..t9, d apart.
struct Instants {
  time_point t0 = RateLimiter::clock::now();
  time_point at(int k) const { return t0 + k * d; }
};

TEST(RateLimiterTest, TestLimit) { EXPECT_NE(10.0, RateLimiter::kInf); }

TEST(RateLimiterTest, TestEvery) {
  struct Case {
    duration interval;
    double limit;
  };
  const std::vector<Case> cases = {
      {0ns, RateLimiter::kInf},
      {-1ns, RateLimiter::kInf},
      {1ns, 1e9},
      {1us, 1e6},
      {1ms, 1e3},
      {10ms, 100},
      {100ms, 10},
      {1s, 1},
      {2s, 0.5},
      {2500ms, 0.4},
      {4s, 0.25},
      {10s, 0.1},
      {duration::max(), 1e9 / static_cast<double>(std::numeric_limits<std::int64_t>::max())},
  };
  for (const Case& c : cases) {
    const double lim = RateLimiter::every(c.interval);
    EXPECT_LT(std::abs(lim / c.limit) - 1.0, 1e-9) << c.interval.count() << "ns: " << lim;
  }
}

struct Allow {
  int at;  // multiples of d after t0
  double tokens;
  int n;
  bool ok;
};

void run_allows(RateLimiter& lim, const Instants& t, const std::vector<Allow>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Allow& a = steps[i];
    EXPECT_EQ(lim.tokens_at(t.at(a.at)), a.tokens) << "step " << i;
    EXPECT_EQ(lim.allow_at(t.at(a.at), a.n), a.ok) << "step " << i;
  }
}

TEST(RateLimiterTest, TestLimiterBurst1) {
  Instants t;
  RateLimiter lim(10, 1);
  run_allows(lim, t,
             {{0, 1, 1, true}, {0, 0, 1, false}, {0, 0, 1, false}, {1, 1, 1, true}, {1, 0, 1, false},
              {1, 0, 1, false}, {2, 1, 2, false}, {2, 1, 1, true}, {2, 0, 1, false}});
}

TEST(RateLimiterTest, TestLimiterBurst3) {
  Instants t;
  RateLimiter lim(10, 3);
  run_allows(lim, t,
             {{0, 3, 2, true}, {0, 1, 2, false}, {0, 1, 1, true}, {0, 0, 1, false}, {1, 1, 4, false},
              {2, 2, 1, true}, {3, 2, 1, true}, {4, 2, 1, true}, {4, 1, 1, true}, {4, 0, 1, false},
              {4, 0, 1, false}, {9, 3, 3, true}, {9, 0, 0, true}});
}

TEST(RateLimiterTest, TestLimiterJumpBackwards) {
  Instants t;
  RateLimiter lim(10, 3);
  run_allows(lim, t,
             {{1, 3, 1, true}, {0, 2, 1, true}, {0, 1, 1, true}, {0, 0, 1, false}, {0, 0, 1, false},
              {1, 1, 1, true}, {1, 0, 1, false}, {1, 0, 1, false}, {2, 1, 1, true}, {2, 0, 1, false},
              {2, 0, 1, false}});
}

TEST(RateLimiterTest, TestLimiterNoTruncationErrors) {
  RateLimiter lim(0.7692307692307693, 1);
  EXPECT_TRUE(lim.allow());
}

TEST(RateLimiterTest, TestLongRunningQPS) {
  constexpr double limit = 100, burst = 100;
  RateLimiter lim(limit, static_cast<int>(burst));
  const time_point start = RateLimiter::clock::now();
  const time_point end = start + 5s;
  int ok = 0;
  time_point now = start;
  for (; now < end; now += 2ms) {
    if (lim.allow_at(now)) ++ok;
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const double ideal = burst + limit * elapsed;
  EXPECT_LE(ok, static_cast<int>(ideal + 1));
  EXPECT_GE(ok, static_cast<int>(0.999 * ideal));
}

// Multiples of d in a duration, rounded to the nearest.
std::int64_t d_from(duration dur) { return (dur + d / 2) / d; }

struct Request {
  int at;
  int n;
  int act;  // multiples of d after t0
  bool ok;
};

RateLimiter::Reservation reserve(RateLimiter& lim, const Instants& t, const Request& q,
                                 duration max = RateLimiter::kInfDuration) {
  auto r = lim.reserve_at(t.at(q.at), q.n, max);
  const bool act_matches = d_from(r.time_to_act() - t.t0) == q.act;
  EXPECT_TRUE(r.ok() == q.ok && (!r.ok() || act_matches))
      << "reserve_at(t" << q.at << ", " << q.n << ") = (t" << d_from(r.time_to_act() - t.t0)
      << ", " << r.ok() << "), want (t" << q.act << ", " << q.ok << ")";
  return r;
}

TEST(RateLimiterTest, TestSimpleReserve) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true});
  reserve(lim, t, {0, 2, 2, true});
  reserve(lim, t, {3, 2, 4, true});
}

TEST(RateLimiterTest, TestMix) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 3, 1, false});  // n exceeds the burst
  reserve(lim, t, {0, 2, 0, true});
  run_allows(lim, t, {{1, 1, 2, false}});  // not enough tokens
  reserve(lim, t, {1, 2, 2, true});
  run_allows(lim, t, {{1, -1, 1, false}});  // negative tokens
  run_allows(lim, t, {{3, 1, 1, true}});
}

TEST(RateLimiterTest, TestCancelInvalid) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true});
  auto r = reserve(lim, t, {0, 3, 3, false});
  r.cancel_at(t.at(0));  // no effect
  reserve(lim, t, {0, 2, 2, true});
}

TEST(RateLimiterTest, TestCancelLast) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true});
  auto r = reserve(lim, t, {0, 2, 2, true});
  r.cancel_at(t.at(1));  // two tokens back
  reserve(lim, t, {1, 2, 2, true});
}

TEST(RateLimiterTest, TestCancelTooLate) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true});
  auto r = reserve(lim, t, {0, 2, 2, true});
  r.cancel_at(t.at(3));  // too late: no effect
  reserve(lim, t, {3, 2, 4, true});
}

TEST(RateLimiterTest, TestCancel0Tokens) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true});
  auto r = reserve(lim, t, {0, 1, 1, true});
  reserve(lim, t, {0, 1, 2, true});
  r.cancel_at(t.at(0));  // the later reservation depends on its token: none back
  reserve(lim, t, {0, 1, 3, true});
}

TEST(RateLimiterTest, TestCancel1Token) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true});
  auto r = reserve(lim, t, {0, 2, 2, true});
  reserve(lim, t, {0, 1, 3, true});
  r.cancel_at(t.at(2));  // one token back
  reserve(lim, t, {2, 2, 4, true});
}

TEST(RateLimiterTest, TestCancelMulti) {
  Instants t;
  RateLimiter lim(10, 4);
  reserve(lim, t, {0, 4, 0, true});
  auto a = reserve(lim, t, {0, 3, 3, true});
  reserve(lim, t, {0, 1, 4, true});
  auto c = reserve(lim, t, {0, 1, 5, true});
  c.cancel_at(t.at(1));  // one token back
  a.cancel_at(t.at(1));  // two back, as if c had never been reserved
  reserve(lim, t, {1, 3, 5, true});
}

TEST(RateLimiterTest, TestReserveJumpBack) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {1, 2, 1, true});  // start at t1
  reserve(lim, t, {0, 1, 1, true});  // violates the limit and the burst
  reserve(lim, t, {2, 2, 3, true});
  reserve(lim, t, {0, 3, 0, false});  // n > burst: the state does not change
  reserve(lim, t, {2, 1, 4, true});
  reserve(lim, t, {0, 2, 0, false}, d);  // past max_delay: the state does not change
  reserve(lim, t, {2, 1, 5, true});
}

TEST(RateLimiterTest, TestReserveJumpBackCancel) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {1, 2, 1, true});
  auto r = reserve(lim, t, {1, 2, 3, true});
  reserve(lim, t, {1, 1, 4, true});
  r.cancel_at(t.at(0));  // one token back
  reserve(lim, t, {1, 2, 4, true});
}

TEST(RateLimiterTest, TestReserveSetLimit) {
  Instants t;
  RateLimiter lim(5, 2);
  reserve(lim, t, {0, 2, 0, true});
  reserve(lim, t, {0, 2, 4, true});
  lim.set_limit_at(t.at(2), 10);
  reserve(lim, t, {2, 1, 4, true});  // violates the limit and the burst
  EXPECT_EQ(lim.limit(), 10);
}

TEST(RateLimiterTest, TestReserveSetBurst) {
  Instants t;
  RateLimiter lim(5, 2);
  reserve(lim, t, {0, 2, 0, true});
  reserve(lim, t, {0, 2, 4, true});
  lim.set_burst_at(t.at(3), 4);
  reserve(lim, t, {0, 4, 9, true});  // violates the limit and the burst
  EXPECT_EQ(lim.burst(), 4);
}

TEST(RateLimiterTest, TestReserveSetLimitCancel) {
  Instants t;
  RateLimiter lim(5, 2);
  reserve(lim, t, {0, 2, 0, true});
  auto r = reserve(lim, t, {0, 2, 4, true});
  lim.set_limit_at(t.at(2), 10);
  r.cancel_at(t.at(2));  // two tokens back
  reserve(lim, t, {2, 2, 3, true});
}

TEST(RateLimiterTest, TestReserveMax) {
  Instants t;
  RateLimiter lim(10, 2);
  reserve(lim, t, {0, 2, 0, true}, d);
  reserve(lim, t, {0, 1, 1, true}, d);   // close enough
  reserve(lim, t, {0, 1, 2, false}, d);  // too far ahead
}

TEST(RateLimiterTest, TestZeroLimit) {
  RateLimiter lim(0, 1);
  EXPECT_TRUE(lim.allow()) << "a zero limit allows the burst once";
  EXPECT_FALSE(lim.allow());
}

TEST(RateLimiterTest, AReservationSaysHowLongToWaitAndCancelsOnce) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  RateLimiter lim(10, 1);
  auto now = lim.reserve();
  EXPECT_TRUE(now.ok());
  EXPECT_EQ(now.delay(), 0ns);
  auto later = lim.reserve();
  EXPECT_EQ(later.delay(), d);
  clock.advance(40ms);
  EXPECT_EQ(later.delay(), 60ms);
  later.cancel();
  later.cancel();  // acts once: the token is not given back twice
  EXPECT_NEAR(lim.tokens(), 0.4, 1e-9);
  auto too_many = lim.reserve(2);
  EXPECT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.delay(), RateLimiter::kInfDuration);
}

// Go's TestSimultaneousRequests, on a clock that does not move: exactly the burst.
class RateLimiterRuntimeTest : public cogo::test::RuntimeTest {
 protected:
  // Runs lim.wait(ctx, n) in a task and moves the clock on by d until it completes;
  // returns its error and how many steps of d it took.
  std::pair<Error, int> wait_steps(RateLimiter& lim, cogo::ManualClock& clock, const cogo::Context& ctx,
                                   int n) {
    auto out = cogo::make_chan<Error>(1);
    const std::size_t armed = clock.armed_timers();
    sched().go([](RateLimiter& l, cogo::Context c, int k, Chan<Error> o) -> Task<> {
      Error err = co_await l.wait(c, k);
      (void)co_await o.send(err);
    }(lim, ctx, n, out));
    int steps = 0;
    while (true) {
      // Either it has finished, or its timer is armed and only time can end the wait.
      EXPECT_TRUE(cogo::test::eventually([&] { return out.size() > 0 || clock.armed_timers() > armed; }));
      if (out.size() > 0) break;
      if (steps == 20) {
        ADD_FAILURE() << "wait(n=" << n << ") still waiting after 20 steps";
        break;
      }
      clock.advance(d);
      ++steps;
    }
    return {*run(out.recv()), steps};
  }
};

TEST_P(RateLimiterRuntimeTest, TestSimultaneousRequests) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  constexpr int limit = 1, burst = 5, requests = 15;
  RateLimiter lim(limit, burst);
  std::atomic<int> ok{0};
  cogo::WaitGroup wg;
  wg.add(requests);
  for (int i = 0; i < requests; ++i) {
    sched().go([](RateLimiter& l, std::atomic<int>& k, cogo::WaitGroup& w) -> Task<> {
      if (l.allow()) k.fetch_add(1);
      w.done();
      co_return;
    }(lim, ok, wg));
  }
  run(wg.wait());
  EXPECT_EQ(ok.load(), burst);
}

TEST_P(RateLimiterRuntimeTest, TestWaitSimple) {
  cogo::test::Watchdog dog("TestWaitSimple: a wait that should not wait hung");
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  RateLimiter lim(10, 3);
  {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    cancel();
    const Error err = run(lim.wait(ctx));
    EXPECT_EQ(err, cogo::errc::canceled) << "already cancelled: " << err;
  }
  const Error too_many = run(lim.wait(cogo::background(), 4));
  EXPECT_TRUE(too_many.is(std::errc::invalid_argument)) << "exceeds the burst: " << too_many;
  EXPECT_FALSE(run(lim.wait(cogo::background(), 2)));  // act now
  auto [err, steps] = wait_steps(lim, clock, cogo::background(), 3);  // act later
  EXPECT_FALSE(err) << err;
  EXPECT_EQ(steps, 2);
}

TEST_P(RateLimiterRuntimeTest, TestWaitCancel) {
  cogo::test::Watchdog dog("TestWaitCancel hung");
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  RateLimiter lim(10, 3);
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  EXPECT_FALSE(run(lim.wait(ctx, 2)));  // act now; one token left
  auto out = cogo::make_chan<Error>(1);
  const std::size_t armed = clock.armed_timers();
  sched().go([](RateLimiter& l, cogo::Context c, Chan<Error> o) -> Task<> {
    Error err = co_await l.wait(c, 3);
    (void)co_await o.send(err);
  }(lim, ctx, out));
  ASSERT_TRUE(cogo::test::eventually([&] { return clock.armed_timers() > armed; }));
  clock.advance(d);  // half way
  EXPECT_EQ(out.size(), 0u);
  cancel();
  const Error err = *run(out.recv());
  EXPECT_EQ(err, cogo::errc::canceled) << err;
  // The three tokens came back: two are there now.
  EXPECT_EQ(lim.tokens(), 2);
  EXPECT_FALSE(run(lim.wait(cogo::background(), 2)));  // act now after the cancel
  EXPECT_EQ(clock.armed_timers(), armed);  // the wait's timer was stopped
}

TEST_P(RateLimiterRuntimeTest, TestWaitTimeout) {
  cogo::test::Watchdog dog("TestWaitTimeout hung");
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  RateLimiter lim(10, 3);
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), d);
  EXPECT_FALSE(run(lim.wait(ctx, 2)));  // act now
  // Three tokens would take 2d, past the deadline: fails at once, without waiting.
  const Error err = run(lim.wait(ctx, 3));
  ASSERT_TRUE(err);
  EXPECT_TRUE(err.is_timeout()) << err;
  EXPECT_FALSE(ctx.is_done());
  EXPECT_NEAR(lim.tokens(), 1, 1e-9);  // and took nothing
}

TEST_P(RateLimiterRuntimeTest, TestWaitInf) {
  cogo::test::Watchdog dog("TestWaitInf hung");
  RateLimiter lim(RateLimiter::kInf, 0);
  EXPECT_FALSE(run(lim.wait(cogo::background(), 3)));  // the burst does not apply
}

TEST_P(RateLimiterRuntimeTest, WaitPacesASeriesOfEvents) {
  cogo::ManualClock clock;
  cogo::ManualClock::Scope use(clock);
  RateLimiter lim(RateLimiter::every(d), 1);
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());  // a select with the timer
  EXPECT_FALSE(run(lim.wait(ctx)));
  for (int i = 0; i < 5; ++i) {
    auto [err, steps] = wait_steps(lim, clock, ctx, 1);
    EXPECT_FALSE(err) << err;
    EXPECT_EQ(steps, 1) << "event " << i;
  }
  lim.set_limit(RateLimiter::every(3 * d));
  auto [err, steps] = wait_steps(lim, clock, cogo::background(), 1);
  EXPECT_FALSE(err) << err;
  EXPECT_EQ(steps, 3);
}

TEST_P(RateLimiterRuntimeTest, ANegativeCountIsAUsageError) {
  RateLimiter lim(10, 3);
  EXPECT_THROW((void)lim.wait(cogo::background(), -1), cogo::usage_error);
}

COGO_RUNTIME_TEST_SUITE(RateLimiterRuntimeTest);

}  // namespace
