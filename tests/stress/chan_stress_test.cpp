// Channels under real races: tasks on 1, 2 and 4 workers and plain threads sending,
// receiving, selecting and closing at once. Every test accounts for each value: each one
// sent successfully is received exactly once (a bitmap, a count and a checksum), each
// one whose send failed is received never, and one sender's values arrive in its order.
#include "cogo/chan.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "cogo/context.hpp"
#include "cogo/select.hpp"
#include "cogo/sync.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Chan;
using cogo::Task;

class ChanStress : public cogo::test::RuntimeTest {};

// Values are producer * kStride + sequence number.
constexpr std::int64_t kStride = 1 << 16;

// What the receivers saw, shared by all of them.
struct Ledger {
  explicit Ledger(int producers) : seen(static_cast<std::size_t>(producers) * kStride) {}
  // `last_of` (per sender, for one receiver of one channel) checks each sender's order;
  // null where values come from two channels, which keep no order between them.
  void take(std::int64_t v, std::vector<std::int64_t>* last_of) {
    const auto p = static_cast<std::size_t>(v / kStride);
    if (last_of != nullptr) {
      EXPECT_LT((*last_of)[p], v) << "values of one sender out of order";
      (*last_of)[p] = v;
    }
    const auto prev = seen[static_cast<std::size_t>(v)].exchange(1, std::memory_order_relaxed);
    EXPECT_EQ(prev, 0) << "value " << v << " delivered twice";
    count.fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(v, std::memory_order_relaxed);
  }
  std::vector<std::atomic<std::uint8_t>> seen;
  std::atomic<std::int64_t> count{0};
  std::atomic<std::int64_t> sum{0};
};

// What the senders sent successfully.
struct Sent {
  void add(std::int64_t v) {
    count.fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(v, std::memory_order_relaxed);
  }
  std::atomic<std::int64_t> count{0};
  std::atomic<std::int64_t> sum{0};
};

Task<> produce(Chan<std::int64_t> ch, int p, int n, Sent& sent, cogo::WaitGroup& wg) {
  for (int i = 0; i < n; ++i) {
    const std::int64_t v = p * kStride + i;
    if (!co_await ch.send(v)) break;  // closed: v was not delivered
    sent.add(v);
  }
  wg.done();
}

Task<> consume(Chan<std::int64_t> ch, int producers, Ledger& ledger, cogo::WaitGroup& wg) {
  std::vector<std::int64_t> last(static_cast<std::size_t>(producers), -1);
  while (auto v = co_await ch.recv()) ledger.take(*v, &last);
  wg.done();
}

void expect_balanced(const Sent& sent, const Ledger& ledger) {
  EXPECT_EQ(ledger.count.load(), sent.count.load()) << "values lost or duplicated";
  EXPECT_EQ(ledger.sum.load(), sent.sum.load()) << "checksum differs";
}

// Tasks and plain threads, four of each side, through small buffers and none.
TEST_P(ChanStress, EveryValueArrivesExactlyOnceInEachSendersOrder) {
  const int per = cogo::test::scaled(40000);
  for (std::size_t cap : {0u, 1u, 2u, 16u}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    auto ch = cogo::make_chan<std::int64_t>(cap);
    constexpr int kTasks = 4, kThreads = 2;
    Ledger ledger(kTasks + kThreads);
    Sent sent;
    cogo::WaitGroup producers, consumers;
    producers.add(kTasks);
    consumers.add(kTasks);
    for (int p = 0; p < kTasks; ++p) sched().go(produce(ch, p, per, sent, producers));
    for (int c = 0; c < kTasks; ++c) sched().go(consume(ch, kTasks + kThreads, ledger, consumers));
    std::vector<std::thread> threads;
    for (int p = kTasks; p < kTasks + kThreads; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per; ++i) {
          const std::int64_t v = p * kStride + i;
          if (i % 3 == 0) {
            while (!ch.try_send(v)) {
              if (ch.closed()) return;
              std::this_thread::yield();
            }
          } else if (!cogo::sync_wait(ch.send(v))) {
            return;
          }
          sent.add(v);
        }
      });
    }
    run(producers.wait());
    for (auto& t : threads) t.join();
    ch.close();
    run(consumers.wait());
    EXPECT_EQ(sent.count.load(), (kTasks + kThreads) * per);
    expect_balanced(sent, ledger);
  }
}

// Close lands in the middle: senders stop at false, receivers drain what was sent.
TEST_P(ChanStress, CloseRacingSendAndReceiveLosesNothing) {
  const int rounds = cogo::test::scaled(400);
  for (int r = 0; r < rounds; ++r) {
    const std::size_t cap = static_cast<std::size_t>(r % 4);  // 0..3
    auto ch = cogo::make_chan<std::int64_t>(cap);
    constexpr int kProducers = 3, kConsumers = 3;
    Ledger ledger(kProducers);
    Sent sent;
    cogo::WaitGroup producers, consumers;
    producers.add(kProducers);
    consumers.add(kConsumers);
    for (int p = 0; p < kProducers; ++p) sched().go(produce(ch, p, 1000, sent, producers));
    for (int c = 0; c < kConsumers; ++c) sched().go(consume(ch, kProducers, ledger, consumers));
    // A thread closes once some values went through: the close races everything.
    std::thread closer([&, r] {
      while (sent.count.load(std::memory_order_relaxed) < 10 + r % 50) std::this_thread::yield();
      EXPECT_TRUE(ch.close());
    });
    run(producers.wait());
    run(consumers.wait());
    closer.join();
    EXPECT_FALSE(ch.close());
    expect_balanced(sent, ledger);
    EXPECT_EQ(ch.size(), 0u);
  }
}

// Selects race selects on the same channels: senders select over two channels (a move-
// only value, which a losing case must leave in place), receivers select over both plus
// a context that is cancelled under them; plain receivers and non-blocking selects take
// part too. Nothing is lost or taken twice.
TEST_P(ChanStress, SelectRacingSelectOnTheSameChannels) {
  const int per = cogo::test::scaled(10000);
  for (std::size_t cap : {0u, 1u, 8u}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    auto a = cogo::make_chan<std::int64_t>(cap);
    auto b = cogo::make_chan<std::int64_t>(cap == 0 ? 0 : cap + 1);
    constexpr int kSenders = 3;
    Ledger ledger(kSenders);
    Sent sent;
    std::atomic<int> lost_values{0};
    cogo::WaitGroup senders, receivers;
    senders.add(kSenders);
    for (int p = 0; p < kSenders; ++p) {
      sched().go([](Chan<std::int64_t> x, Chan<std::int64_t> y, int id, int n, Sent& s,
                    std::atomic<int>& lost, cogo::WaitGroup& wg) -> Task<> {
        for (int i = 0; i < n; ++i) {
          const std::int64_t v = id * kStride + i;
          if (i % 4 == 3) {
            // Non-blocking: may take the default; then send it plainly.
            auto r = co_await cogo::select(x.send(std::int64_t{v}), y.send(std::int64_t{v}),
                                           cogo::default_case);
            if (r.index() == 2 && !co_await x.send(v)) lost.fetch_add(1);
          } else {
            auto r = co_await cogo::select(x.send(std::int64_t{v}), y.send(std::int64_t{v}));
            if (!(r.index() == 0 ? std::get<0>(r) : std::get<1>(r))) lost.fetch_add(1);
          }
          s.add(v);
        }
        wg.done();
      }(a, b, p, per, sent, lost_values, senders));
    }
    // Select receivers whose context is cancelled every so often (a stale waiter each
    // time), plain receivers, and a thread polling with a non-blocking select.
    std::atomic<bool> stop{false};
    constexpr int kSelectors = 3, kPlain = 2;
    receivers.add(kSelectors + kPlain);
    for (int c = 0; c < kSelectors; ++c) {
      sched().go([](Chan<std::int64_t> x, Chan<std::int64_t> y, Ledger& l, std::atomic<bool>& done,
                    cogo::WaitGroup& wg) -> Task<> {
        for (int i = 0; !done.load(std::memory_order_acquire); ++i) {
          auto [ctx, cancel] = cogo::with_cancel(cogo::background());
          if (i % 7 == 0) cancel();
          auto r = co_await cogo::select(x.recv(), y.recv(), ctx.done());
          if (r.index() == 0 && std::get<0>(r)) l.take(*std::get<0>(r), nullptr);
          if (r.index() == 1 && std::get<1>(r)) l.take(*std::get<1>(r), nullptr);
          if (r.index() < 2 && !(r.index() == 0 ? std::get<0>(r) : std::get<1>(r))) break;
        }
        wg.done();
      }(a, b, ledger, stop, receivers));
    }
    for (int c = 0; c < kPlain; ++c) {
      sched().go([](Chan<std::int64_t> x, Ledger& l, cogo::WaitGroup& wg) -> Task<> {
        std::vector<std::int64_t> last(kSenders, -1);
        while (auto v = co_await x.recv()) l.take(*v, &last);
        wg.done();
      }(c == 0 ? a : b, ledger, receivers));
    }
    std::thread poller([&] {
      while (!stop.load(std::memory_order_acquire)) {
        auto r = cogo::sync_wait(cogo::select(a.recv(), b.recv(), cogo::default_case));
        if (r.index() == 0 && std::get<0>(r)) ledger.take(*std::get<0>(r), nullptr);
        if (r.index() == 1 && std::get<1>(r)) ledger.take(*std::get<1>(r), nullptr);
        if (r.index() == 2) std::this_thread::yield();
      }
    });
    run(senders.wait());
    a.close();
    b.close();
    stop.store(true, std::memory_order_release);
    poller.join();
    run(receivers.wait());
    EXPECT_EQ(lost_values.load(), 0);
    EXPECT_EQ(sent.count.load(), kSenders * per);
    expect_balanced(sent, ledger);
  }
}

COGO_RUNTIME_TEST_SUITE(ChanStress);

}  // namespace
