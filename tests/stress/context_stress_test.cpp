// Races between cancellation and everything else, with real threads, asserting outcomes.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <random>
#include <thread>
#include <vector>

#include "cogo/context.hpp"
#include "cogo/manual_clock.hpp"
#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Context;
using cogo::errc;
using cogo::Error;

std::size_t links(const Context& c) {
  return static_cast<cogo::detail::CancelNode*>(c.node())->link_count();
}

TEST(ContextStress, CancelRacesChildCreation) {
  const int rounds = cogo::test::scaled(300);
  constexpr int kThreads = 4, kPerThread = 50;
  for (int round = 0; round < rounds; ++round) {
    auto [parent, cancel] = cogo::with_cancel_cause(cogo::background());
    std::vector<std::vector<cogo::Cancelable<cogo::CancelFunc>>> made(kThreads);
    std::barrier start(kThreads + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t, &p = parent] {
        start.arrive_and_wait();
        for (int i = 0; i < kPerThread; ++i) {
          made[t].push_back(i % 2 ? cogo::with_cancel(p) : cogo::with_timeout(p, 1h));
        }
      });
    }
    start.arrive_and_wait();
    cancel(Error("round over"));
    for (auto& t : threads) t.join();
    // Every child, created before or after the cancel, is done with the parent's cause,
    // and none is left linked to the parent.
    for (auto& per : made) {
      for (auto& c : per) {
        ASSERT_TRUE(c.ctx.is_done());
        ASSERT_EQ(cogo::cause(c.ctx), cogo::cause(parent));
      }
    }
    ASSERT_EQ(links(parent), 0u);
  }
}

TEST(ContextStress, CancelRacesAfterFuncStop) {
  const int rounds = cogo::test::scaled(200);
  constexpr int kRegs = 64;
  for (int round = 0; round < rounds; ++round) {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    std::atomic<int> ran{0};
    std::atomic<int> stopped{0};
    std::vector<cogo::AfterFunc> regs;
    for (int i = 0; i < kRegs; ++i) regs.push_back(cogo::after_func(ctx, [&] { ++ran; }));
    std::barrier start(3);
    std::thread stopper1([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kRegs; i += 2) stopped += regs[i].stop() ? 1 : 0;
    });
    std::thread stopper2([&] {
      start.arrive_and_wait();
      for (int i = 1; i < kRegs; i += 2) stopped += regs[i].stop() ? 1 : 0;
    });
    start.arrive_and_wait();
    cancel();
    stopper1.join();
    stopper2.join();
    // Each registration either was stopped or ran, never both, never neither.
    ASSERT_TRUE(cogo::test::eventually([&] { return ran.load() + stopped.load() == kRegs; }))
        << "ran " << ran << " stopped " << stopped;
    for (auto& r : regs) ASSERT_FALSE(r.stop());
    ASSERT_EQ(ran.load() + stopped.load(), kRegs);
  }
}

TEST(ContextStress, ConcurrentCancelsOfAHundredNodeTree) {
  const int rounds = cogo::test::scaled(200);
  std::mt19937 rng(12345);
  for (int round = 0; round < rounds; ++round) {
    struct Node {
      Context ctx;
      cogo::CancelCauseFunc cancel;
      int parent;
      Error mine;
    };
    std::vector<Node> tree;
    auto [root, root_cancel] = cogo::with_cancel_cause(cogo::background());
    tree.push_back({root, std::move(root_cancel), -1, Error("node 0")});
    for (int i = 1; i < 100; ++i) {
      const int p = static_cast<int>(rng() % tree.size());
      auto [c, cancel] = cogo::with_cancel_cause(tree[p].ctx);
      tree.push_back({c, std::move(cancel), p, Error("node " + std::to_string(i))});
    }
    std::vector<int> order(tree.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::shuffle(order.begin(), order.end(), rng);
    constexpr int kThreads = 4;
    std::barrier start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (std::size_t i = static_cast<std::size_t>(t); i < order.size(); i += kThreads) {
          tree[order[i]].cancel(tree[order[i]].mine);
        }
      });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < tree.size(); ++i) {
      const Node& n = tree[i];
      ASSERT_TRUE(n.ctx.is_done());
      ASSERT_EQ(links(n.ctx), 0u);
      // A node's cause is its own cancel's, or else exactly its parent's.
      const Error why = cogo::cause(n.ctx);
      ASSERT_TRUE(why.is(n.mine) || (n.parent >= 0 && why == cogo::cause(tree[n.parent].ctx)))
          << "node " << i << ": " << why;
    }
  }
}

TEST(ContextStress, DeadlineRacesCancel) {
  const int rounds = cogo::test::scaled(2000);
  cogo::ManualClock clock;
  int expired = 0, canceled = 0;
  for (int round = 0; round < rounds; ++round) {
    cogo::Cancelable<cogo::CancelFunc> r;
    {
      cogo::ManualClock::Scope use(clock);
      r = cogo::with_timeout(cogo::background(), 1ms);
    }
    auto [kid, kid_cancel] = cogo::with_cancel(r.ctx);
    std::barrier start(2);
    std::thread advancer([&] {
      start.arrive_and_wait();
      clock.advance(1ms);
    });
    start.arrive_and_wait();
    r.cancel();
    advancer.join();
    ASSERT_TRUE(kid.is_done());
    ASSERT_EQ(kid.err(), r.ctx.err());
    (r.ctx.err() == errc::deadline_exceeded ? expired : canceled) += 1;
    ASSERT_EQ(clock.armed_timers(), 0u);
  }
  RecordProperty("expired", expired);
  RecordProperty("canceled", canceled);
}

TEST(ContextStress, WaitersRaceCancel) {
  const int rounds = cogo::test::scaled(300);
  for (int round = 0; round < rounds; ++round) {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    std::atomic<int> saw_done{0};
    std::atomic<bool> cancelled{false};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i) {
      waiters.emplace_back([&, i, &c = ctx] {
        // Short timed waits that time out, interleaved with the cancel; then a full wait.
        for (int k = 0; k < 20; ++k) {
          const bool done = c.wait_for(std::chrono::microseconds(i * 10 + k));
          if (done) {
            ASSERT_TRUE(c.is_done());
          }
        }
        c.wait();
        ASSERT_TRUE(cancelled.load());
        ++saw_done;
      });
    }
    std::this_thread::yield();
    cancelled = true;
    cancel();
    for (auto& w : waiters) w.join();
    ASSERT_EQ(saw_done.load(), 4);
    ASSERT_EQ(links(ctx), 0u);
  }
}

TEST(ContextStress, StopTokensRaceCancel) {
  const int rounds = cogo::test::scaled(1000);
  for (int round = 0; round < rounds; ++round) {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    std::atomic<int> callbacks{0};
    std::thread t([&, &c = ctx] {
      std::stop_token tok = c.stop_token();
      std::stop_callback cb(tok, [&] { ++callbacks; });
      while (!tok.stop_requested()) std::this_thread::yield();
    });
    cancel();
    t.join();
    ASSERT_EQ(callbacks.load(), 1);
  }
}

}  // namespace
