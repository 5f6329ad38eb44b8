// Go 1.23's runtime/chan_test.go tests about channel and select semantics, ported with
// their Go names. Where Go sleeps to let a goroutine block, these tests wait until the
// task is recorded as waiting on the channel; the rest is Go's logic.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/select.hpp"
#include "cogo/sync.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Chan;
using cogo::Task;
using cogo::detail::WaitReason;

class GoChan : public cogo::test::RuntimeTest {};

Task<> recv_then_set(Chan<int> c, std::atomic<bool>& flag) {
  (void)co_await c.recv();
  flag = true;
}

Task<> send_then_set(Chan<int> c, std::atomic<bool>& flag) {
  (void)co_await c.send(0);
  flag = true;
}

Task<> send_range(Chan<int> c, int n) {
  for (int i = 0; i < n; ++i) (void)co_await c.send(i);
}

Task<> recv_count(Chan<int> c, int n, Chan<std::map<int, int>> done) {
  std::map<int, int> got;
  for (int i = 0; i < n; ++i) {
    auto v = co_await c.recv();
    if (v) ++got[*v];
  }
  (void)co_await done.send(std::move(got));
}

TEST_P(GoChan, TestChan) {
  const int n = cogo::test::scaled(50);
  for (int cap = 0; cap < n; ++cap) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    {
      // A receive from an empty channel blocks; a non-blocking one does not.
      auto c = cogo::make_chan<int>(static_cast<std::size_t>(cap));
      std::atomic<bool> recv1{false}, recv2{false};
      sched().go(recv_then_set(c, recv1));
      sched().go(recv_then_set(c, recv2));
      ASSERT_TRUE(until_waiting(2, WaitReason::chan_receive));
      EXPECT_FALSE(recv1 || recv2);
      EXPECT_EQ(run(cogo::select(c.recv(), cogo::default_case)).index(), 1u);
      EXPECT_TRUE(run(c.send(0)));
      EXPECT_TRUE(run(c.send(0)));
      ASSERT_TRUE(cogo::test::eventually([&] { return recv1 && recv2; }));
    }
    {
      // A send to a full channel blocks; a non-blocking one does not.
      auto c = cogo::make_chan<int>(static_cast<std::size_t>(cap));
      for (int i = 0; i < cap; ++i) ASSERT_TRUE(c.try_send(i));
      std::atomic<bool> sent{false};
      sched().go(send_then_set(c, sent));
      ASSERT_TRUE(until_waiting(1, WaitReason::chan_send));
      EXPECT_FALSE(sent);
      EXPECT_EQ(run(cogo::select(c.send(0), cogo::default_case)).index(), 1u);
      (void)run(c.recv());
      ASSERT_TRUE(cogo::test::eventually([&] { return sent.load(); }));
    }
    {
      // A closed channel yields its buffer in order, then "closed".
      auto c = cogo::make_chan<int>(static_cast<std::size_t>(cap));
      for (int i = 0; i < cap; ++i) (void)c.try_send(i);
      c.close();
      for (int i = 0; i < cap; ++i) EXPECT_EQ(run(c.recv()), i);
      EXPECT_FALSE(run(c.recv()));
      EXPECT_FALSE(run(c.recv()));
    }
    {
      // Close unblocks a receive.
      auto c = cogo::make_chan<int>(static_cast<std::size_t>(cap));
      auto done = cogo::make_chan<bool>();
      sched().go([](Chan<int> ch, Chan<bool> d) -> Task<> {
        auto v = co_await ch.recv();
        (void)co_await d.send(!v.has_value());
      }(c, done));
      ASSERT_TRUE(until_waiting(1, WaitReason::chan_receive));
      c.close();
      EXPECT_EQ(run(done.recv()), true);
    }
    {
      // 100 values arrive uncorrupted and in order; then 4 senders and 4 receivers
      // exchange 1000 values each, and every value arrives exactly as often as sent.
      auto c = cogo::make_chan<int>(static_cast<std::size_t>(cap));
      sched().go(send_range(c, 100));
      for (int i = 0; i < 100; ++i) ASSERT_EQ(run(c.recv()), i);
      constexpr int P = 4, L = 1000;
      auto done = cogo::make_chan<std::map<int, int>>();
      for (int p = 0; p < P; ++p) sched().go(send_range(c, L));
      for (int p = 0; p < P; ++p) sched().go(recv_count(c, L, done));
      std::map<int, int> recv;
      for (int p = 0; p < P; ++p) {
        auto m = run(done.recv());
        ASSERT_TRUE(m);
        for (auto [k, v] : *m) recv[k] += v;
      }
      ASSERT_EQ(recv.size(), static_cast<std::size_t>(L));
      for (auto [k, v] : recv) ASSERT_EQ(v, P) << "value " << k;
    }
    {
      // len and cap.
      auto c = cogo::make_chan<int>(static_cast<std::size_t>(cap));
      EXPECT_EQ(c.size(), 0u);
      EXPECT_EQ(c.capacity(), static_cast<std::size_t>(cap));
      for (int i = 0; i < cap; ++i) (void)c.try_send(i);
      EXPECT_EQ(c.size(), static_cast<std::size_t>(cap));
    }
  }
}

Task<bool> nonblocking_recv(Chan<int> c) {
  auto r = co_await cogo::select(c.recv(), cogo::default_case);
  co_return r.index() == 0;
}

TEST_P(GoChan, TestNonblockRecvRace) {
  const int n = cogo::test::scaled(2000);
  for (int i = 0; i < n; ++i) {
    auto c = cogo::make_chan<int>(1);
    (void)c.try_send(1);
    auto ready = cogo::make_chan<bool>(1);
    sched().go([](Chan<int> ch, Chan<bool> r) -> Task<> { (void)co_await r.send(co_await nonblocking_recv(ch)); }(c, ready));
    c.close();
    (void)run(c.recv());
    ASSERT_EQ(run(ready.recv()), true) << "chan is not ready";
  }
}

// A select sees the channels' state at one moment: from the time the second task starts,
// c1 or c2 is always ready, so its default case must never run.
TEST_P(GoChan, TestNonblockSelectRace) {
  const int n = cogo::test::scaled(5000);
  auto done = cogo::make_chan<bool>(1);
  for (int i = 0; i < n; ++i) {
    auto c1 = cogo::make_chan<int>(1), c2 = cogo::make_chan<int>(1);
    (void)c1.try_send(1);
    sched().go([](Chan<int> a, Chan<int> b, Chan<bool> d) -> Task<> {
      auto r = co_await cogo::select(a.recv(), b.recv(), cogo::default_case);
      (void)co_await d.send(r.index() != 2);
    }(c1, c2, done));
    (void)c2.try_send(1);
    (void)c1.try_recv();
    ASSERT_EQ(run(done.recv()), true) << "no chan is ready";
  }
}

TEST_P(GoChan, TestNonblockSelectRace2) {
  const int n = cogo::test::scaled(5000);
  auto done = cogo::make_chan<bool>(1);
  for (int i = 0; i < n; ++i) {
    auto c1 = cogo::make_chan<int>(1), c2 = cogo::make_chan<int>();
    (void)c1.try_send(1);
    sched().go([](Chan<int> a, Chan<int> b, Chan<bool> d) -> Task<> {
      auto r = co_await cogo::select(a.recv(), b.recv(), cogo::default_case);
      (void)co_await d.send(r.index() != 2);
    }(c1, c2, done));
    c2.close();
    (void)c1.try_recv();
    ASSERT_EQ(run(done.recv()), true) << "no chan is ready";
  }
}

Task<> self_selector(Chan<int> c, int p, std::size_t cap, std::atomic<int>& self_receives,
                     cogo::WaitGroup& wg) {
  for (int i = 0; i < 1000; ++i) {
    int mine = p;
    if (p == 0 || i % 2 == 0) {
      auto r = co_await cogo::select(c.send(mine), c.recv());
      if (r.index() == 1 && cap == 0 && std::get<1>(r) == p) self_receives.fetch_add(1);
    } else {
      auto r = co_await cogo::select(c.recv(), c.send(mine));
      if (r.index() == 0 && cap == 0 && std::get<0>(r) == p) self_receives.fetch_add(1);
    }
  }
  wg.done();
}

// Sending and receiving on one channel in the same select neither crashes nor
// deadlocks, and a select never receives its own send.
TEST_P(GoChan, TestSelfSelect) {
  for (std::size_t cap : {0u, 10u}) {
    auto c = cogo::make_chan<int>(cap);
    std::atomic<int> self_receives{0};
    cogo::WaitGroup wg;
    wg.add(2);
    for (int p = 0; p < 2; ++p) sched().go(self_selector(c, p, cap, self_receives, wg));
    run(wg.wait());
    EXPECT_EQ(self_receives.load(), 0) << "self receive, cap " << cap;
  }
}

Task<> send_n(Chan<int> c, int n, cogo::WaitGroup& wg) {
  for (int i = 0; i < n; ++i) (void)co_await c.send(0);
  wg.done();
}

Task<> recv_n(Chan<int> c, int n, cogo::WaitGroup& wg) {
  for (int i = 0; i < n; ++i) (void)co_await c.recv();
  wg.done();
}

Task<> select_sender(std::array<Chan<int>, 4> c, int n, cogo::WaitGroup& wg) {
  std::array<int, 4> sent{};
  for (int i = 0; i < 4 * n; ++i) {
    auto r = co_await cogo::select(c[3].send(0), c[2].send(0), c[0].send(0), c[1].send(0));
    const int k = std::array<int, 4>{3, 2, 0, 1}[r.index()];
    if (++sent[k] == n) c[k] = Chan<int>();  // done with it: a nil channel never fires
  }
  wg.done();
}

Task<> select_receiver(std::array<Chan<int>, 4> c, int n, cogo::WaitGroup& wg) {
  std::array<int, 4> got{};
  for (int i = 0; i < 4 * n; ++i) {
    auto r = co_await cogo::select(c[0].recv(), c[1].recv(), c[2].recv(), c[3].recv());
    const auto k = r.index();
    if (++got[k] == n) c[k] = Chan<int>();
  }
  wg.done();
}

TEST_P(GoChan, TestSelectStress) {
  std::array<Chan<int>, 4> c = {cogo::make_chan<int>(), cogo::make_chan<int>(),
                                cogo::make_chan<int>(2), cogo::make_chan<int>(3)};
  const int n = cogo::test::scaled(10000);
  cogo::WaitGroup wg;
  wg.add(10);
  for (int k = 0; k < 4; ++k) {
    sched().go(send_n(c[k], n, wg));
    sched().go(recv_n(c[k], n, wg));
  }
  sched().go(select_sender(c, n, wg));
  sched().go(select_receiver(c, n, wg));
  run(wg.wait());  // the whole construct must not deadlock
}

Task<> fair_selector(std::array<Chan<unsigned char>, 4> in, Chan<unsigned char> out,
                     Chan<unsigned char> done) {
  for (;;) {
    auto r = co_await cogo::select(in[2].recv(), in[3].recv(), in[0].recv(), in[1].recv());
    unsigned char b = 0;
    std::visit([&](auto& v) { b = *v; }, r);
    auto s = co_await cogo::select(out.send(b), done.recv());
    if (s.index() == 1) co_return;
  }
}

TEST_P(GoChan, TestSelectFairness) {
  constexpr int kTrials = 10000;
  auto c1 = cogo::make_chan<unsigned char>(kTrials + 1), c2 = cogo::make_chan<unsigned char>(kTrials + 1);
  for (int i = 0; i < kTrials + 1; ++i) {
    (void)c1.try_send(1);
    (void)c2.try_send(2);
  }
  auto c3 = cogo::make_chan<unsigned char>(), c4 = cogo::make_chan<unsigned char>();
  auto out = cogo::make_chan<unsigned char>(), done = cogo::make_chan<unsigned char>();
  sched().go(fair_selector({c1, c2, c3, c4}, out, done));
  int cnt1 = 0, cnt2 = 0;
  for (int i = 0; i < kTrials; ++i) {
    auto b = run(out.recv());
    ASSERT_TRUE(b);
    if (*b == 1) {
      ++cnt1;
    } else if (*b == 2) {
      ++cnt2;
    } else {
      FAIL() << "unexpected value " << int(*b);
    }
  }
  // Within 10 standard deviations of half, as Go asks.
  const double mean = kTrials * 0.5, sd = std::sqrt(kTrials * 0.25);
  EXPECT_LE(std::abs(cnt1 - mean), 10 * sd) << cnt1 << " vs " << cnt2;
  done.close();
}

TEST_P(GoChan, TestPseudoRandomSend) {
  const int n = 100;
  for (std::size_t cap : {std::size_t{0}, std::size_t{100}}) {
    auto c = cogo::make_chan<int>(cap);
    auto collected = cogo::make_chan<std::vector<int>>(1);
    sched().go([](Chan<int> ch, Chan<std::vector<int>> out, int count) -> Task<> {
      std::vector<int> l;
      for (int i = 0; i < count; ++i) {
        co_await cogo::yield();
        l.push_back(*co_await ch.recv());
      }
      (void)co_await out.send(std::move(l));
    }(c, collected, n));
    run([](Chan<int> ch, int count) -> Task<> {
      for (int i = 0; i < count; ++i) (void)co_await cogo::select(ch.send(1), ch.send(0));
    }(c, n));
    auto l = run(collected.recv());
    ASSERT_TRUE(l);
    int n0 = 0, n1 = 0;
    for (int v : *l) {
      n0 += (v + 1) % 2;
      n1 += v;
    }
    EXPECT_GT(n0, n / 10) << "cap " << cap;
    EXPECT_GT(n1, n / 10) << "cap " << cap;
  }
}

Task<> multi_worker(Chan<int> q, Chan<int> r, int w, cogo::WaitGroup& wg) {
  static constexpr int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  while (auto v = co_await q.recv()) {
    if (pn[w % 10] == *v) co_await cogo::yield();  // mess with the fifo-ish order
    (void)co_await r.send(*v);
  }
  wg.done();
}

Task<> multi_feeder(Chan<int> q, Chan<int> r, int niter, long& expect, cogo::WaitGroup& wg) {
  static constexpr int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  for (int i = 0; i < niter; ++i) {
    const int v = pn[i % 10];
    expect += v;
    (void)co_await q.send(v);
  }
  q.close();
  co_await wg.wait();
  r.close();
}

TEST_P(GoChan, TestMultiConsumer) {
  constexpr int nwork = 23;
  const int niter = cogo::test::scaled(271828);
  auto q = cogo::make_chan<int>(nwork * 3), r = cogo::make_chan<int>(nwork * 3);
  cogo::WaitGroup wg;
  for (int i = 0; i < nwork; ++i) {
    wg.add(1);
    sched().go(multi_worker(q, r, i, wg));
  }
  long expect = 0;
  sched().go(multi_feeder(q, r, niter, expect, wg));
  auto [n, s] = run([](Chan<int> results) -> Task<std::pair<int, long>> {
    int count = 0;
    long sum = 0;
    while (auto v = co_await results.recv()) {
      ++count;
      sum += *v;
    }
    co_return std::pair{count, sum};
  }(r));
  EXPECT_EQ(n, niter);
  EXPECT_EQ(s, expect);
}

// A task queued twice on one channel (the same channel in two cases) leaves the queue
// intact when another case wakes it.
TEST_P(GoChan, TestSelectDuplicateChannel) {
  auto c = cogo::make_chan<int>(), d = cogo::make_chan<int>(), e = cogo::make_chan<int>();
  sched().go([](Chan<int> cc, Chan<int> dd, Chan<int> ee) -> Task<> {
    (void)co_await cogo::select(cc.recv(), cc.recv(), dd.recv());
    (void)co_await ee.send(9);
  }(c, d, e));
  ASSERT_TRUE(until_waiting(1, WaitReason::select));
  sched().go([](Chan<int> cc) -> Task<> { (void)co_await cc.recv(); }(c));
  ASSERT_TRUE(until_waiting(2));
  EXPECT_TRUE(run(d.send(7)));  // wakes A, which leaves c's queue
  EXPECT_EQ(run(e.recv()), 9);
  EXPECT_TRUE(run(c.send(8)));  // wakes B: c's queue was left intact
}

COGO_RUNTIME_TEST_SUITE(GoChan);

}  // namespace
