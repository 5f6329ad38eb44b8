// TimeoutStream on real loopback sockets: a per-read and a per-write deadline end an
// operation that waits too long, with their own cause and the line that set them; the
// context's deadline and cancel still end it, saying so, whichever comes first; an
// operation that completes at once arms nothing; and each deadline counts per call, so
// a slow but steady peer is not cut off.
#include "cogo/asio/timeout_stream.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/diag/metrics.hpp"
#include "cogo/error.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using cogo::Context;
using cogo::Task;
using cogo::asio::IoResult;
using cogo::asio::TimeoutStream;
using cogo::test::ConnPair;

constexpr int read_line = __LINE__ + 9;  // the read_some in read_some_on below

class TimeoutStreamTest : public cogo::test::RuntimeTest {
 protected:
  ConnPair pair() { return cogo::test::make_pair([this](auto t) { return run(std::move(t)); }); }
};

Task<IoResult<std::size_t>> read_some_on(TimeoutStream& s, Context ctx, std::string& got) {
  got.assign(64, '\0');
  auto r = co_await s.read_some(std::move(ctx), boost::asio::buffer(got));  // read_line
  got.resize(r.value);
  co_return r;
}
Task<IoResult<std::size_t>> read_on(TimeoutStream& s, Context ctx, std::string& got, std::size_t n) {
  got.assign(n, '\0');
  co_return co_await s.read(std::move(ctx), boost::asio::buffer(got));
}
Task<IoResult<std::size_t>> write_on(TimeoutStream& s, Context ctx, const std::string& text) {
  co_return co_await s.write(std::move(ctx), boost::asio::buffer(text));
}
Task<IoResult<std::size_t>> conn_write(cogo::asio::Conn& c, std::string text) {
  co_return co_await c.write(cogo::background(), boost::asio::buffer(text));
}

TEST_P(TimeoutStreamTest, APerReadDeadlineEndsAReadSayingWhichAndWhere) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(30ms);
  const int line = __LINE__ - 1;
  const auto t0 = Clock::now();
  std::string got;
  auto r = run(read_some_on(s, cogo::background(), got));
  EXPECT_GE(Clock::now() - t0, 30ms);
  EXPECT_EQ(r.error.code(), cogo::asio::make_error_code(cogo::asio::errc::read_timeout)) << r.error;
  EXPECT_TRUE(r.error.is_timeout());
  EXPECT_TRUE(r.error.is(std::errc::timed_out));
  EXPECT_FALSE(r.error.is(cogo::errc::deadline_exceeded)) << "not the context's";
  EXPECT_FALSE(r.error.is(cogo::asio::errc::write_timeout));
  EXPECT_EQ(r.error.to_string(), "read from " + s.conn().peer() + ": read timeout at tests/asio/timeout_stream_test.cpp:" +
                                     std::to_string(read_line) + " (30ms, set at tests/asio/timeout_stream_test.cpp:" +
                                     std::to_string(line) + ")");
  EXPECT_EQ(s.deadlines_armed(), 1u);
  // The stream is still usable: the timeout was this read's, not the connection's.
  EXPECT_FALSE(run(conn_write(p.client, "late")).error);
  r = run(read_some_on(s, cogo::background(), got));
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(got, "late");
}

TEST_P(TimeoutStreamTest, TheContextsEarlierDeadlineWinsAndSaysSo) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(10s);
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 30ms);
  const int line = __LINE__ - 1;
  std::string got;
  auto r = run(read_some_on(s, ctx, got));
  EXPECT_TRUE(r.error.is_timeout()) << r.error;
  EXPECT_FALSE(r.error.is(cogo::asio::errc::read_timeout)) << r.error;
  EXPECT_EQ(r.error.to_string(), "read from " + s.conn().peer() +
                                     " canceled: context deadline exceeded (deadline set at "
                                     "tests/asio/timeout_stream_test.cpp:" + std::to_string(line) + ", 30ms)");
}

TEST_P(TimeoutStreamTest, TheEarlierPerReadDeadlineWinsOverTheContexts) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(20ms);
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 10s);
  std::string got;
  const auto t0 = Clock::now();
  auto r = run(read_some_on(s, ctx, got));
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_TRUE(r.error.is(cogo::asio::errc::read_timeout)) << r.error;
  EXPECT_FALSE(ctx.is_done()) << "the context itself lives on";
}

TEST_P(TimeoutStreamTest, ACancelOfTheContextIsReportedAsTheContexts) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(10s);
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  IoResult<std::size_t> r;
  cogo::test::Signal done;
  std::string got;
  sched().go([](TimeoutStream& st, Context c, std::string& g, IoResult<std::size_t>& out,
                cogo::test::Signal d) -> Task<> {
    out = co_await read_some_on(st, std::move(c), g);
    d.set();
  }(s, ctx, got, r, done));
  ASSERT_TRUE(until_waiting(1, cogo::detail::WaitReason::io_wait));
  cancel();
  ASSERT_TRUE(done.wait_for());
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_FALSE(r.error.is_timeout());
  EXPECT_THAT(r.error.to_string(), StartsWith("read from " + s.conn().peer() + " canceled: context canceled at "));
}

TEST_P(TimeoutStreamTest, AnOperationThatCompletesAtOnceArmsNoTimer) {
  // The attempt without a timer is made on the connection's own worker; with one worker
  // every operation starts there. (From another worker, an operation is handed to the
  // owner and waits as any other: see timeout_stream.hpp.)
  if (GetParam() != 1) GTEST_SKIP() << "needs every operation on the sockets' worker";
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(10s);
  s.set_write_timeout(10s);
  EXPECT_FALSE(run(conn_write(p.client, "0123456789")).error);
  ASSERT_TRUE(cogo::test::eventually([&] { return s.conn().socket().available() == 10; }));
  std::string got;
  auto r = run(read_on(s, cogo::background(), got, 4));
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(got, "0123");
  r = run(read_some_on(s, cogo::background(), got));
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(got, "456789");
  auto w = run(write_on(s, cogo::background(), "reply"));
  EXPECT_FALSE(w.error) << w.error;
  EXPECT_EQ(w.value, 5u);
  EXPECT_EQ(s.deadlines_armed(), 0u);
  EXPECT_EQ(cogo::diag::snapshot().timers_armed, 0u);
}

Task<> trickle(cogo::asio::Conn& c, int pieces, std::chrono::milliseconds gap) {
  for (int i = 0; i < pieces; ++i) {
    co_await cogo::sleep(gap);
    auto w = co_await c.write(cogo::background(), boost::asio::buffer("ab", 2));
    if (w.error) co_return;
  }
}

TEST_P(TimeoutStreamTest, EachReadHasItsOwnDeadlineSoASteadyPeerIsNotCutOff) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(500ms);
  // Ten pieces 20 ms apart: 200 ms in all, each read waiting 20 ms.
  sched().go(trickle(p.client, 10, 20ms));
  std::string got;
  auto r = run(read_on(s, cogo::background(), got, 2));
  for (int i = 1; i < 10 && !r.error; ++i) r = run(read_on(s, cogo::background(), got, 2));
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(got, "ab");
  EXPECT_GE(s.deadlines_armed(), 1u);
}

TEST_P(TimeoutStreamTest, AReadOfExactlyNKeepsWhatArrivedBeforeItsDeadline) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(40ms);
  EXPECT_FALSE(run(conn_write(p.client, "abc")).error);
  ASSERT_TRUE(cogo::test::eventually([&] { return s.conn().socket().available() == 3; }));
  std::string got;
  auto r = run(read_on(s, cogo::background(), got, 8));
  EXPECT_TRUE(r.error.is(cogo::asio::errc::read_timeout)) << r.error;
  EXPECT_EQ(r.value, 3u);
  EXPECT_EQ(got.substr(0, 3), "abc");
}

TEST_P(TimeoutStreamTest, APerWriteDeadlineEndsAWriteThePeerDoesNotRead) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.client));
  s.set_write_timeout(50ms);
  const int line = __LINE__ - 1;
  const std::string big(std::size_t{64} << 20, 'x');
  auto w = run(write_on(s, cogo::background(), big));
  EXPECT_TRUE(w.error.is_timeout()) << w.error;
  EXPECT_TRUE(w.error.is(cogo::asio::errc::write_timeout)) << w.error;
  EXPECT_GT(w.value, 0u);
  EXPECT_LT(w.value, big.size());
  EXPECT_THAT(w.error.to_string(), StartsWith("write to " + s.conn().peer() + ": write timeout at "));
  EXPECT_THAT(w.error.to_string(), HasSubstr(" (50ms, set at tests/asio/timeout_stream_test.cpp:" +
                                             std::to_string(line) + ")"));
}

TEST_P(TimeoutStreamTest, ErrorsAtOnceAreTheConnsErrors) {
  ConnPair p = pair();
  TimeoutStream s(std::move(p.server));
  s.set_read_timeout(10s);
  (void)p.client.shutdown();
  ASSERT_TRUE(cogo::test::eventually([&] { return s.conn().socket().available() == 0; }));
  std::string got;
  auto r = run(read_some_on(s, cogo::background(), got));
  EXPECT_TRUE(cogo::asio::is_eof(r.error)) << r.error;
  EXPECT_EQ(r.error.to_string().rfind("read from " + s.conn().peer(), 0), 0u) << r.error;
  // A done context moves nothing, even with bytes waiting.
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  auto w = run(write_on(s, ctx, "x"));
  EXPECT_TRUE(w.error.is(cogo::errc::canceled)) << w.error;
  EXPECT_EQ(w.value, 0u);
}

COGO_RUNTIME_TEST_SUITE(TimeoutStreamTest);

}  // namespace
