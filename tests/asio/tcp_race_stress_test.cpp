// cogo::asio under races on real threads and real loopback sockets: a context cancelled
// from another thread at the moment its read completes, thousands of times, and close()
// from another worker racing an operation's start. Outcomes are asserted, not just
// survived: every byte sent is received exactly once and in order (each position of the
// stream is checked against a known pattern), a read that completed as its context was
// cancelled keeps its bytes and the next read on that context fails at once without
// taking any, every awaited operation resumes its task exactly once, and nothing is left
// pending. Run under ThreadSanitizer and AddressSanitizer too (smaller counts there).
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Context;
using cogo::Task;
using cogo::asio::Conn;
using cogo::test::ConnPair;

class TcpRaceStressTest : public cogo::test::RuntimeTest {};

constexpr std::size_t kChunk = 64;

// A plain thread that, each round it is armed, sends the next chunk of the pattern on a
// socket (with plain send(2), which Asio does not see, so no Asio object is shared with
// it) and cancels the context it is handed, in a random order, with random short spins
// before, between and inside: data arrives before, during and after the cancel of the
// read it races, sometimes half a chunk before. After the last round it half-closes.
class Racer {
 public:
  Racer(int fd, int rounds) : fd_(fd), rounds_(rounds), thread_([this] { loop(); }) {}
  ~Racer() {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  Racer(const Racer&) = delete;
  Racer& operator=(const Racer&) = delete;

  // Hands `cancel` over for one round; done() turns true once the round is over.
  void arm(const cogo::CancelFunc* cancel) {
    target_.store(cancel, std::memory_order_release);
    armed_.fetch_add(1, std::memory_order_acq_rel);
  }
  bool done() const {
    return fired_.load(std::memory_order_acquire) == armed_.load(std::memory_order_acquire);
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }

 private:
  static void spin(unsigned n) {
    std::atomic<unsigned> i{0};
    while (i.fetch_add(1, std::memory_order_relaxed) < n) {
    }
  }
  void send_all(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t k = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
        std::this_thread::yield();
        continue;
      }
      if (k <= 0) {
        failed_.store(true, std::memory_order_release);
        return;
      }
      p += k;
      n -= static_cast<std::size_t>(k);
    }
  }
  void send_chunk(std::minstd_rand& rng) {
    const std::string chunk = cogo::test::pattern(pos_, kChunk);
    pos_ += kChunk;
    const std::size_t first = rng() % 2 == 0 ? kChunk : kChunk / 2;
    send_all(chunk.data(), first);
    if (first < kChunk) {
      spin(rng() % 2000);
      send_all(chunk.data() + first, kChunk - first);
    }
  }
  void loop() {
    std::minstd_rand rng(7);
    std::uint64_t seen = 0;
    while (!stop_.load(std::memory_order_acquire)) {
      const std::uint64_t armed = armed_.load(std::memory_order_acquire);
      if (armed == seen) {
        std::this_thread::yield();
        continue;
      }
      seen = armed;
      const cogo::CancelFunc& cancel = *target_.load(std::memory_order_acquire);
      spin(rng() % 4000);
      if (rng() % 2 == 0) {
        send_chunk(rng);
        // Half the time a short spin; else a short sleep, long enough for the reader's
        // worker to wake and take the chunk: a spin that long would hold the core that
        // worker needs on a small machine.
        if (rng() % 2 == 0) {
          spin(rng() % 4000);
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
        }
        cancel();
      } else {
        cancel();
        spin(rng() % 4000);
        send_chunk(rng);
      }
      if (seen == static_cast<std::uint64_t>(rounds_)) ::shutdown(fd_, SHUT_WR);
      fired_.store(armed, std::memory_order_release);
    }
  }

  const int fd_;
  const int rounds_;
  std::uint64_t pos_ = 0;  // the racer thread's only
  std::atomic<const cogo::CancelFunc*> target_{nullptr};
  std::atomic<std::uint64_t> armed_{0};
  std::atomic<std::uint64_t> fired_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::thread thread_;  // last: starts once the rest is built
};

struct RaceCounts {
  std::uint64_t bytes = 0;        // received, each checked against the pattern
  int completed = 0;              // reads that ended without error
  int completed_as_cancelled = 0;  // ... although the context was done when they resumed
  int cancelled = 0;              // reads that the cancel ended
  int partial = 0;                // ... having read some bytes first
  int issued = 0;                 // reads awaited
  int resumes = 0;                // ... and resumed: a second resume would count twice
  bool failed = false;
};

// Reads the stream to its end. `rounds` times, a read on a fresh context races a chunk
// and a cancel from the Racer thread; then, with the cancel known to have happened, one
// more read on that context must fail at once, reading nothing. The rest (the chunks
// that cancelled reads left) is read with no context.
Task<> read_racing_cancels(Conn& c, int rounds, Racer& racer, RaceCounts& out) {
  char buf[kChunk];
  auto check = [&](std::size_t n) {
    if (const long long at = cogo::test::pattern_mismatch(buf, out.bytes, n); at >= 0) {
      ADD_FAILURE() << "byte " << at << " is not the one sent there";
      out.failed = true;
    }
    out.bytes += n;
  };
  for (int i = 0; i < rounds && !out.failed; ++i) {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    racer.arm(&cancel);
    cogo::asio::IoResult<std::size_t> r;
    ++out.issued;
    if (i % 2 == 0) {
      r = co_await c.read(ctx, boost::asio::buffer(buf));
    } else {
      r = co_await c.read_some(ctx, boost::asio::buffer(buf));
    }
    ++out.resumes;
    check(r.value);
    if (!r.error) {
      ++out.completed;
      if (ctx.is_done()) ++out.completed_as_cancelled;
    } else if (r.error.is(cogo::errc::canceled)) {
      ++out.cancelled;
      if (r.value > 0) ++out.partial;
    } else {
      ADD_FAILURE() << "round " << i << ": " << r.error;
      out.failed = true;
    }
    while (!racer.done()) co_await cogo::yield();
    // Done now: the next operation on ctx fails without taking a byte.
    ++out.issued;
    auto next = co_await c.read_some(ctx, boost::asio::buffer(buf));
    ++out.resumes;
    if (!next.error.is(cogo::errc::canceled) || next.value != 0) {
      ADD_FAILURE() << "round " << i << ": a read on a cancelled context got " << next.value
                    << " bytes, error " << next.error;
      out.failed = true;
    }
    // What the cancelled read left (the round's chunk is all sent: send(2) on loopback
    // queues it at the receiver before it returns) is read now, so that the next round's
    // read finds nothing waiting and really races.
    boost::system::error_code ec;
    const std::size_t left = c.socket().available(ec);
    if (left > 0 && !ec) {
      ++out.issued;
      auto rest = co_await c.read(cogo::background(), boost::asio::buffer(buf, left));
      ++out.resumes;
      check(rest.value);
      if (rest.error) {
        ADD_FAILURE() << "round " << i << ": reading what was left: " << rest.error;
        out.failed = true;
      }
    }
  }
  for (;;) {
    ++out.issued;
    auto [n, err] = co_await c.read_some(cogo::background(), boost::asio::buffer(buf));
    ++out.resumes;
    check(n);
    if (err) {
      if (!cogo::asio::is_eof(err)) {
        ADD_FAILURE() << "draining: " << err;
        out.failed = true;
      }
      break;
    }
  }
}

// Reads race cancels on `p` (its sockets on whichever scheduler made them) from a task
// on the fixture's scheduler.
void race_reads(cogo::Scheduler& sched, ConnPair& p, int rounds) {
  const std::int64_t pending_before = cogo::asio::pending_operations();
  const std::uint64_t total = static_cast<std::uint64_t>(rounds) * kChunk;
  RaceCounts counts;
  bool send_failed = false;
  {
    Racer racer(p.client.socket().native_handle(), rounds);
    cogo::test::Watchdog watchdog("a read racing a cancel never resumed", 120s);
    sched.block_on(read_racing_cancels(p.server, rounds, racer, counts));
    send_failed = racer.failed();
  }
  EXPECT_FALSE(send_failed);
  EXPECT_FALSE(counts.failed);
  EXPECT_EQ(counts.bytes, total) << "every byte sent is received, once";
  EXPECT_EQ(counts.completed + counts.cancelled, rounds);
  EXPECT_GT(counts.completed, 0);
  EXPECT_GT(counts.cancelled, 0);
  EXPECT_EQ(counts.resumes, counts.issued) << "each read resumes its task once";
  EXPECT_TRUE(cogo::test::eventually([&] { return cogo::asio::pending_operations() == pending_before; }))
      << cogo::asio::pending_operations() - pending_before << " operations still pending";
  std::printf("  %d rounds: %d completed (%d as the context was cancelled), %d cancelled (%d after some bytes)\n",
              rounds, counts.completed, counts.completed_as_cancelled, counts.cancelled, counts.partial);
}

TEST_P(TcpRaceStressTest, CancelRacingCompletionLosesAndRepeatsNoByte) {
  ConnPair p = cogo::test::make_pair([this](auto t) { return run(std::move(t)); });
  race_reads(sched(), p, cogo::test::scaled(5000));
}

TEST_P(TcpRaceStressTest, CancelRacingCompletionOfAnOperationStartedOnAnotherWorker) {
  // The sockets belong to another scheduler's worker: every read is handed to it, and its
  // cancel is emitted there, while the reading task waits on this scheduler.
  auto other = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 1});
  ConnPair p = cogo::test::make_pair([&](auto t) { return other->block_on(std::move(t)); });
  race_reads(sched(), p, cogo::test::scaled(3000));
  p = ConnPair{};
  other.reset();
}

// One read per pair, started from this scheduler on a socket of another, while a task
// here closes the connection: the close and the read's start meet on the owner's worker.
Task<cogo::Error> read_one(Conn& c) {
  char b[8];
  auto r = co_await c.read_some(cogo::background(), boost::asio::buffer(b));
  co_return r.error;
}
Task<> close_it(Conn& c) {
  (void)c.close();
  co_return;
}
Task<int> close_racing_reads(std::vector<ConnPair>& pairs) {
  int closed = 0;
  for (ConnPair& p : pairs) {
    cogo::go(close_it(p.server));
    const cogo::Error err = co_await read_one(p.server);
    if (cogo::asio::is_closed(err)) {
      ++closed;
    } else {
      ADD_FAILURE() << "a read raced by close(): " << err;
    }
  }
  co_return closed;
}

TEST_P(TcpRaceStressTest, CloseFromAnotherWorkerRacingAnOperationsStart) {
  auto other = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 1});
  const int n = cogo::test::scaled(300);
  std::vector<ConnPair> pairs;
  {
    cogo::asio::Listener ln = other->block_on(cogo::test::listen_local());
    for (int i = 0; i < n; ++i) pairs.push_back(other->block_on(cogo::test::connect_pair(ln)));
    ln.close();
  }
  EXPECT_EQ(run(close_racing_reads(pairs)), n);
  pairs.clear();
  other.reset();
}

COGO_RUNTIME_TEST_SUITE(TcpRaceStressTest);

}  // namespace
