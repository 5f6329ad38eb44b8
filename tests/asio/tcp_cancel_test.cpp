// A Context ends cogo::asio operations, on real loopback sockets: a read blocked in a task
// is cancelled by cancel() from another thread, from another task, and by a deadline,
// each with its own code (errc::canceled, errc::deadline_exceeded) and a text that says
// what ended and why; accept, write and dial end the same way; an operation on a context
// that is already done fails at once and moves no byte (a read does not take waiting
// bytes, an accept does not take a waiting connection); and a task blocked in a read
// shows in task dumps as [IO wait: read 127.0.0.1:<port>, ...].
#include "cogo/asio/tcp.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/diag/tasks.hpp"
#include "cogo/error.hpp"
#include "cogo/scheduler.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using cogo::Context;
using cogo::Error;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::asio::Listener;
using cogo::detail::WaitReason;
using cogo::test::ConnPair;
using cogo::test::Signal;

class TcpCancelTest : public cogo::test::RuntimeTest {
 protected:
  ConnPair pair() { return cogo::test::make_pair([this](auto t) { return run(std::move(t)); }); }
};

// A read of 16 bytes on `ctx`, its result kept for the test, which waits on `done`.
Task<> read_into(Conn& c, Context ctx, IoResult<std::size_t>& out, Signal done) {
  char buf[16];
  out = co_await c.read(std::move(ctx), boost::asio::buffer(buf));
  done.set();
}

Task<> cancel_from_task(cogo::CancelCauseFunc& cancel) {
  cancel(Error("client went away"));
  co_return;
}

TEST_P(TcpCancelTest, CancelFromAnotherThreadEndsABlockedRead) {
  ConnPair p = pair();
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  IoResult<std::size_t> r;
  Signal done;
  sched().go(read_into(p.server, ctx, r, done));
  ASSERT_TRUE(until_waiting(1, WaitReason::io_wait));
  cancel();
  const int cancel_line = __LINE__ - 1;
  ASSERT_TRUE(done.wait_for());
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.error.code(), cogo::make_error_code(cogo::errc::canceled)) << r.error;
  EXPECT_FALSE(r.error.is_timeout());
  EXPECT_THAT(r.error.to_string(),
              StartsWith("read from " + p.server.peer() + " canceled: context canceled at tests/asio/tcp_cancel_test.cpp:" +
                         std::to_string(cancel_line)));
  // The connection is fine: the next read, on another context, gets what is sent.
  auto [w, werr] = run(p.client.write(cogo::background(), boost::asio::buffer("0123456789abcdef", 16)));
  EXPECT_FALSE(werr);
  Signal again;
  sched().go(read_into(p.server, cogo::background(), r, again));
  ASSERT_TRUE(again.wait_for());
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(r.value, 16u);
}

TEST_P(TcpCancelTest, CancelFromAnotherTaskEndsABlockedReadWithItsCause) {
  ConnPair p = pair();
  auto [ctx, cancel] = cogo::with_cancel_cause(cogo::background());
  IoResult<std::size_t> r;
  Signal done;
  sched().go(read_into(p.server, ctx, r, done));
  ASSERT_TRUE(until_waiting(1, WaitReason::io_wait));
  run(cancel_from_task(cancel));
  ASSERT_TRUE(done.wait_for());
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_THAT(r.error.to_string(), StartsWith("read from " + p.server.peer() + " canceled: context canceled at "));
  EXPECT_THAT(r.error.to_string(), HasSubstr("(client went away"));
}

TEST_P(TcpCancelTest, DeadlineEndsABlockedReadSayingWhereItWasSet) {
  ConnPair p = pair();
  const auto t0 = std::chrono::steady_clock::now();
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 30ms);
  const int line = __LINE__ - 1;
  IoResult<std::size_t> r;
  Signal done;
  sched().go(read_into(p.server, ctx, r, done));
  ASSERT_TRUE(done.wait_for());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
  EXPECT_EQ(r.error.code(), cogo::make_error_code(cogo::errc::deadline_exceeded)) << r.error;
  EXPECT_TRUE(r.error.is_timeout());
  EXPECT_EQ(r.error.to_string(), "read from " + p.server.peer() +
                                     " canceled: context deadline exceeded (deadline set at tests/asio/tcp_cancel_test.cpp:" +
                                     std::to_string(line) + ", 30ms)");
}

TEST_P(TcpCancelTest, DeadlineWithACauseReportsTheCause) {
  ConnPair p = pair();
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 10ms, Error("backend too slow"));
  IoResult<std::size_t> r;
  Signal done;
  sched().go(read_into(p.server, ctx, r, done));
  ASSERT_TRUE(done.wait_for());
  EXPECT_TRUE(r.error.is_timeout()) << r.error;
  EXPECT_THAT(r.error.to_string(), StartsWith("read from " + p.server.peer() + " canceled: "));
  EXPECT_THAT(r.error.to_string(), HasSubstr("backend too slow"));
}

Task<IoResult<std::size_t>> read_some_on(Conn& c, Context ctx, std::string& got) {
  got.assign(64, '\0');
  auto r = co_await c.read_some(std::move(ctx), boost::asio::buffer(got));
  got.resize(r.value);
  co_return r;
}
Task<IoResult<std::size_t>> write_on(Conn& c, Context ctx, std::string text) {
  co_return co_await c.write(std::move(ctx), boost::asio::buffer(text));
}

TEST_P(TcpCancelTest, AnOperationOnADoneContextFailsAtOnceAndMovesNoByte) {
  ConnPair p = pair();
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  // Data is waiting to be read, and room to write: still nothing moves.
  EXPECT_FALSE(run(write_on(p.client, cogo::background(), "first")).error);
  ASSERT_TRUE(cogo::test::eventually([&] { return p.server.socket().available() == 5; }));
  std::string got;
  auto r = run(read_some_on(p.server, ctx, got));
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_EQ(r.value, 0u);
  auto w = run(write_on(p.server, ctx, "not sent"));
  EXPECT_TRUE(w.error.is(cogo::errc::canceled)) << w.error;
  EXPECT_EQ(w.value, 0u);
  EXPECT_THAT(w.error.to_string(), StartsWith("write to " + p.server.peer() + " canceled: "));
  // The bytes are still there for a live context, and none went the other way.
  r = run(read_some_on(p.server, cogo::background(), got));
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(got, "first");
  EXPECT_FALSE(run(write_on(p.server, cogo::background(), "reply")).error);
  r = run(read_some_on(p.client, cogo::background(), got));
  EXPECT_EQ(got, "reply");
}

Task<IoResult<Conn>> dial_on_conn(std::string address) {
  co_return co_await cogo::asio::dial(cogo::background(), std::move(address));
}

Task<> accept_into(Listener& ln, Context ctx, Error& out, Signal done) {
  auto r = co_await ln.accept(std::move(ctx));
  out = r.error;
  done.set();
}

TEST_P(TcpCancelTest, CancelEndsABlockedAccept) {
  Listener ln = run(cogo::test::listen_local());
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  Error err;
  Signal done;
  sched().go(accept_into(ln, ctx, err, done));
  ASSERT_TRUE(until_waiting(1, WaitReason::io_wait));
  cancel();
  ASSERT_TRUE(done.wait_for());
  EXPECT_TRUE(err.is(cogo::errc::canceled)) << err;
  EXPECT_THAT(err.to_string(), StartsWith("accept on " + ln.address() + " canceled: context canceled at "));
  ln.close();
}

Task<IoResult<Conn>> accept_on(Listener& ln, Context ctx) { co_return co_await ln.accept(std::move(ctx)); }

TEST_P(TcpCancelTest, AcceptOnADoneContextLeavesAWaitingConnectionQueued) {
  Listener ln = run(cogo::test::listen_local());
  auto [client, derr] = run(dial_on_conn(ln.address()));
  ASSERT_FALSE(derr) << derr;
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  auto r = run(accept_on(ln, ctx));
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_FALSE(r.value);
  // The connection was not taken: a live context gets it.
  auto again = run(accept_on(ln, cogo::background()));
  ASSERT_FALSE(again.error) << again.error;
  EXPECT_EQ(again.value.peer(), client.local());
  ln.close();
}

Task<> write_big(Conn& c, Context ctx, const std::string& big, IoResult<std::size_t>& out, Signal done) {
  out = co_await c.write(std::move(ctx), boost::asio::buffer(big));
  done.set();
}

TEST_P(TcpCancelTest, DeadlineEndsAWriteThePeerDoesNotReadReportingWhatWasWritten) {
  ConnPair p = pair();
  // Far more than loopback buffers hold; made before the deadline starts to run.
  const std::string big(std::size_t{64} << 20, 'x');
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 50ms);
  IoResult<std::size_t> r;
  Signal done;
  sched().go(write_big(p.client, ctx, big, r, done));
  ASSERT_TRUE(done.wait_for());
  EXPECT_TRUE(r.error.is(cogo::errc::deadline_exceeded)) << r.error;
  EXPECT_GT(r.value, 0u) << "the buffers took some before the write blocked";
  EXPECT_LT(r.value, std::size_t{64} << 20);
  EXPECT_THAT(r.error.to_string(), StartsWith("write to " + p.client.peer() + " canceled: context deadline exceeded"));
}

Task<Error> dial_on(Context ctx, std::string address) {
  auto r = co_await cogo::asio::dial(std::move(ctx), std::move(address));
  co_return r.error;
}

TEST_P(TcpCancelTest, DialOnADoneContextFailsNamingTheConnect) {
  Listener ln = run(cogo::test::listen_local());
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  const Error err = run(dial_on(ctx, ln.address()));
  EXPECT_TRUE(err.is(cogo::errc::canceled)) << err;
  EXPECT_THAT(err.to_string(), StartsWith("connect to " + ln.address() + " canceled: "));
  const Error named = run(dial_on(ctx, "localhost:" + std::to_string(ln.port())));
  EXPECT_TRUE(named.is(cogo::errc::canceled)) << named;
  ln.close();
}

TEST_P(TcpCancelTest, CancelEndsAReadHandedToAnotherSchedulersWorker) {
  // The sockets belong to another scheduler: the read starts on its worker, the cancel is
  // emitted there, and the task resumes here.
  auto other = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 1});
  ConnPair p = cogo::test::make_pair([&](auto t) { return other->block_on(std::move(t)); });
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  IoResult<std::size_t> r;
  Signal done;
  sched().go(read_into(p.server, ctx, r, done));
  ASSERT_TRUE(until_waiting(1, WaitReason::io_wait));
  cancel();
  ASSERT_TRUE(done.wait_for());
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_EQ(r.value, 0u);
  p = ConnPair{};
  other.reset();
}

TEST_P(TcpCancelTest, ADumpShowsATaskBlockedInAReadAndItsPeer) {
  ConnPair p = pair();
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  IoResult<std::size_t> r;
  Signal done;
  sched().go(read_into(p.server, ctx, r, done));
  ASSERT_TRUE(until_waiting(1, WaitReason::io_wait));
  std::ostringstream os;
  cogo::diag::dump_tasks(os, 2);
  const std::string dump = os.str();
  EXPECT_THAT(dump, HasSubstr("[IO wait: read " + p.server.peer() + ", ")) << dump;
  std::ostringstream grouped;
  cogo::diag::dump_tasks(grouped, 1);
  EXPECT_THAT(grouped.str(), HasSubstr("IO wait")) << grouped.str();
  cancel();
  ASSERT_TRUE(done.wait_for());
}

COGO_RUNTIME_TEST_SUITE(TcpCancelTest);

}  // namespace
