#include "cogo/chan.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cogo/select.hpp"
#include "cogo/sync.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Chan;
using cogo::Task;
using cogo::detail::WaitReason;

class ChanTest : public cogo::test::RuntimeTest {};

Task<> send_n(Chan<int> ch, int n) {
  for (int i = 0; i < n; ++i) {
    if (!co_await ch.send(i)) co_return;
  }
}

Task<std::vector<int>> drain(Chan<int> ch) {
  std::vector<int> got;
  while (auto v = co_await ch.recv()) got.push_back(*v);
  co_return got;
}

TEST_P(ChanTest, UnbufferedSendMeetsItsReceiver) {
  auto ch = cogo::make_chan<int>();
  EXPECT_EQ(ch.capacity(), 0u);
  sched().go(send_n(ch, 100));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(run(ch.recv()), i);
}

TEST_P(ChanTest, BufferedValuesComeOutInOrder) {
  auto ch = cogo::make_chan<int>(8);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(ch.try_send(i));
  EXPECT_FALSE(ch.try_send(8));  // full
  EXPECT_EQ(ch.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(ch.try_recv().value_or(-1), i);
  EXPECT_FALSE(ch.try_recv());
}

TEST_P(ChanTest, RecvDrainsTheBufferBeforeReportingClosed) {
  auto ch = cogo::make_chan<int>(3);
  (void)ch.try_send(1);
  (void)ch.try_send(2);
  EXPECT_TRUE(ch.close());
  EXPECT_FALSE(ch.close());  // Go panics; cogo says so
  EXPECT_TRUE(ch.closed());
  EXPECT_EQ(run(drain(ch)), (std::vector<int>{1, 2}));
  EXPECT_FALSE(run(ch.recv()));
}

TEST_P(ChanTest, SendOnAClosedChannelReturnsFalseAndKeepsTheValue) {
  auto ch = cogo::make_chan<std::unique_ptr<int>>(1);
  ch.close();
  auto value = std::make_unique<int>(5);
  EXPECT_FALSE(run(ch.send(std::move(value))));
  ASSERT_TRUE(value) << "a failed send must not consume the value";
  EXPECT_EQ(*value, 5);
  EXPECT_FALSE(ch.try_send(std::move(value)));
  EXPECT_TRUE(value);
}

TEST_P(ChanTest, CloseWakesBlockedSendersWithFalse) {
  auto ch = cogo::make_chan<int>();
  auto results = cogo::make_chan<bool>(3);
  for (int i = 0; i < 3; ++i) {
    sched().go([](Chan<int> c, Chan<bool> out) -> Task<> {
      (void)co_await out.send(co_await c.send(1));
    }(ch, results));
  }
  ASSERT_TRUE(until_waiting(3, WaitReason::chan_send));
  ch.close();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(results.recv()), false);
}

TEST_P(ChanTest, CloseWakesBlockedReceiversEmpty) {
  auto ch = cogo::make_chan<int>(2);
  auto results = cogo::make_chan<bool>(3);
  for (int i = 0; i < 3; ++i) {
    sched().go([](Chan<int> c, Chan<bool> out) -> Task<> {
      (void)co_await out.send((co_await c.recv()).has_value());
    }(ch, results));
  }
  ASSERT_TRUE(until_waiting(3, WaitReason::chan_receive));
  ch.close();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(results.recv()), false);
}

TEST_P(ChanTest, MoveOnlyValuesMove) {
  auto ch = cogo::make_chan<std::unique_ptr<std::string>>();
  sched().go([](Chan<std::unique_ptr<std::string>> c) -> Task<> {
    (void)co_await c.send(std::make_unique<std::string>("hello"));
  }(ch));
  auto v = run(ch.recv());
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, "hello");
}

TEST_P(ChanTest, NilChannelNeverFires) {
  Chan<int> nil;
  EXPECT_TRUE(nil.is_nil());
  EXPECT_FALSE(nil.try_send(1));
  EXPECT_FALSE(nil.try_recv());
  EXPECT_FALSE(nil.close());
  EXPECT_EQ(nil.size(), 0u);
  EXPECT_EQ(nil.capacity(), 0u);
  auto r = run(cogo::select(nil.recv(), nil.send(1), cogo::default_case));
  EXPECT_EQ(r.index(), 2u);
}

TEST_P(ChanTest, ThreadsAndTasksShareAChannel) {
  auto ch = cogo::make_chan<int>(4);
  std::thread producer([ch] {
    for (int i = 0; i < 1000; ++i) cogo::sync_wait(ch.send(i));
    ch.close();
  });
  auto got = run(drain(ch));
  producer.join();
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[i], i);
}

TEST_P(ChanTest, AnLvalueIsCopiedAndStaysValid) {
  auto ch = cogo::make_chan<std::string>(1);
  std::string s = "kept";
  EXPECT_TRUE(run(ch.send(s)));
  EXPECT_EQ(s, "kept");
  EXPECT_EQ(ch.try_recv().value_or(""), "kept");
}

// A value whose every construction checks that it lands on its 64-byte boundary.
struct alignas(64) Wide {
  static inline std::atomic<int> misplaced{0};
  explicit Wide(int x) noexcept : v(x) { check(); }
  Wide(const Wide& o) noexcept : v(o.v) { check(); }
  Wide(Wide&& o) noexcept : v(o.v) { check(); }
  Wide& operator=(const Wide&) = default;
  void check() const noexcept {
    if (reinterpret_cast<std::uintptr_t>(this) % 64 != 0) misplaced.fetch_add(1);
  }
  int v;
};

// Only try_send and try_recv: their values live on this thread's stack, while a
// coroutine frame need not be 64-byte aligned (frames come from cogo's pool).
TEST(ChanAlignmentTest, OverAlignedValuesAreStoredAligned) {
  Wide::misplaced = 0;
  for (std::size_t cap : {1u, 3u, 8u}) {
    auto ch = cogo::make_chan<Wide>(cap);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(ch.try_send(Wide(static_cast<int>(i))));
    for (std::size_t i = 0; i < cap; ++i) {
      auto v = ch.try_recv();
      ASSERT_TRUE(v);
      EXPECT_EQ(v->v, static_cast<int>(i));
    }
  }
  EXPECT_EQ(Wide::misplaced.load(), 0) << "values were built at misaligned addresses";
}

TEST(ChanCapacityTest, ACapacityWhoseBufferSizeOverflowsThrowsLengthError) {
  // 4 * (2^62 + 1) wraps to 4 in 64 bits: the buffer must not be sized from that.
  for (std::size_t cap : {(std::size_t{1} << 62) + 1, SIZE_MAX / 2, SIZE_MAX, (std::size_t{1} << 40) + 1}) {
    try {
      auto ch = cogo::make_chan<int>(cap);
      ADD_FAILURE() << "make_chan<int>(" << cap << ") returned a channel of capacity "
                    << ch.capacity();
    } catch (const std::length_error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(cap)), std::string::npos)
          << "the message should name the capacity: " << e.what();
    }
  }
}

// A value whose copy throws on demand (as an allocating copy does out of memory).
struct Fragile {
  static inline std::atomic<bool> fail{false};
  explicit Fragile(int x) noexcept : v(x) {}
  Fragile(const Fragile& o) : v(o.v) {
    if (fail) throw std::runtime_error("copy failed");
  }
  Fragile(Fragile&& o) noexcept : v(o.v) {}
  Fragile& operator=(const Fragile&) = default;
  int v;
};

TEST_P(ChanTest, AThrowingCopyPropagatesFromTheSendAndLosesNothing) {
  for (std::size_t cap : {0u, 2u}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    auto ch = cogo::make_chan<Fragile>(cap);
    // A receiver waits (the unbuffered case) or the buffer has room.
    auto got = cogo::make_chan<int>(4);
    sched().go([](Chan<Fragile> c, Chan<int> out) -> Task<> {
      while (auto v = co_await c.recv()) (void)co_await out.send(v->v);
      out.close();
    }(ch, got));
    if (cap == 0) {
      ASSERT_TRUE(until_waiting(1, WaitReason::chan_receive));
    }
    const Fragile a(7);
    Fragile::fail = true;
    EXPECT_THROW((void)run(ch.send(a)), std::runtime_error);
    EXPECT_THROW((void)ch.try_send(a), std::runtime_error);
    EXPECT_THROW((void)run(cogo::select(ch.send(a), cogo::default_case)), std::runtime_error);
    Fragile::fail = false;
    // The channel is intact and usable: the next send is the first value delivered.
    EXPECT_TRUE(run(ch.send(a)));
    EXPECT_TRUE(run(ch.send(Fragile(8))));
    ch.close();
    EXPECT_EQ(run(got.recv()), 7);
    EXPECT_EQ(run(got.recv()), 8);
    EXPECT_FALSE(run(got.recv())) << "a failed copy must not deliver anything";
  }
}

TEST_P(ChanTest, TryRecvTellsNotReadyFromClosedAndDrained) {
  for (std::size_t cap : {0u, 1u, 4u}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    auto ch = cogo::make_chan<int>(cap);
    auto r = ch.try_recv();
    EXPECT_FALSE(r);
    EXPECT_EQ(r.status(), cogo::RecvStatus::not_ready);
    if (cap > 0) {
      ASSERT_TRUE(ch.try_send(5));
      r = ch.try_recv();
      EXPECT_EQ(r.status(), cogo::RecvStatus::received);
      EXPECT_EQ(r.value_or(-1), 5);
      ASSERT_TRUE(ch.try_send(6));
    }
    ch.close();
    if (cap > 0) {
      r = ch.try_recv();
      EXPECT_EQ(r.status(), cogo::RecvStatus::received) << "buffered values outlive close";
      EXPECT_EQ(r.value_or(-1), 6);
    }
    r = ch.try_recv();
    EXPECT_FALSE(r);
    EXPECT_EQ(r.status(), cogo::RecvStatus::closed);
  }
  Chan<int> nil;
  EXPECT_EQ(nil.try_recv().status(), cogo::RecvStatus::not_ready) << "nil is never ready";
  // It is a std::optional, and converts to one.
  auto ch = cogo::make_chan<int>(1);
  ASSERT_TRUE(ch.try_send(9));
  std::optional<int> plain = ch.try_recv();
  EXPECT_EQ(plain, 9);
}

TEST_P(ChanTest, SizeCountsAcrossLapsOfTheBuffer) {
  for (std::size_t cap : {1u, 3u, 4u}) {
    auto ch = cogo::make_chan<int>(cap);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 20; ++round) {
      const std::size_t fill = static_cast<std::size_t>(round) % (cap + 1);
      for (std::size_t i = 0; i < fill; ++i) ASSERT_TRUE(ch.try_send(next_in++));
      EXPECT_EQ(ch.size(), fill);
      for (std::size_t i = 0; i < fill; ++i) ASSERT_EQ(ch.try_recv().value_or(-1), next_out++);
      EXPECT_EQ(ch.size(), 0u);
    }
  }
}

// Receivers parked on an empty buffer get the values in the order they parked, and
// senders parked on a full one deliver in the order they parked (Go's queues are FIFO).
TEST_P(ChanTest, ParkedPartiesAreServedInTheOrderTheyParked) {
  for (std::size_t cap : {1u, 2u}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    auto ch = cogo::make_chan<int>(cap);
    auto got = cogo::make_chan<std::pair<int, int>>(8);
    for (int r = 0; r < 3; ++r) {
      sched().go([](Chan<int> c, Chan<std::pair<int, int>> out, int id) -> Task<> {
        auto v = co_await c.recv();
        (void)co_await out.send({id, v.value_or(-1)});
      }(ch, got, r));
      ASSERT_TRUE(until_waiting(static_cast<std::size_t>(r) + 1, WaitReason::chan_receive));
    }
    for (int v = 0; v < 3; ++v) EXPECT_TRUE(run(ch.send(v)));
    std::vector<int> value_of(3, -2);
    for (int i = 0; i < 3; ++i) {
      auto p = run(got.recv());
      ASSERT_TRUE(p);
      value_of[static_cast<std::size_t>(p->first)] = p->second;
    }
    EXPECT_EQ(value_of, (std::vector<int>{0, 1, 2}));

    // Full buffer, three senders parked in turn.
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(ch.try_send(100));
    for (int s = 0; s < 3; ++s) {
      sched().go([](Chan<int> c, int v) -> Task<> { (void)co_await c.send(v); }(ch, s));
      ASSERT_TRUE(until_waiting(static_cast<std::size_t>(s) + 1, WaitReason::chan_send));
    }
    for (std::size_t i = 0; i < cap; ++i) EXPECT_EQ(run(ch.recv()), 100);
    for (int s = 0; s < 3; ++s) EXPECT_EQ(run(ch.recv()), s);
    ASSERT_TRUE(cogo::test::eventually([&] { return waiting() == 0; }));
  }
}

COGO_RUNTIME_TEST_SUITE(ChanTest);

}  // namespace
