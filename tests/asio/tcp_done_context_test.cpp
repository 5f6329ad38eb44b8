// Regression: an operation awaited on a context that
// is already done must fail at once with the context's error and move nothing, even
// when the socket is ready. Asio completes a ready operation inside its initiation
// (the reactor's speculative read/write/accept), so cancelling it after the start, as
// TaskOp::start() does, comes too late: before the fix every operation below succeeded.
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/error.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Context;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::asio::Listener;
using cogo::test::ConnPair;

class TcpDoneContextTest : public cogo::test::RuntimeTest {
 protected:
  ConnPair pair() { return cogo::test::make_pair([this](auto t) { return run(std::move(t)); }); }
};

Task<IoResult<std::size_t>> write_on(Conn& c, Context ctx, std::string text) {
  co_return co_await c.write(std::move(ctx), boost::asio::buffer(text));
}
Task<IoResult<std::size_t>> read_some_on(Conn& c, Context ctx, std::string& out) {
  out.assign(64, '\0');
  auto r = co_await c.read_some(std::move(ctx), boost::asio::buffer(out));
  out.resize(r.value);
  co_return r;
}
Task<IoResult<std::size_t>> read_on(Conn& c, Context ctx, std::string& out, std::size_t n) {
  out.assign(n, '\0');
  auto r = co_await c.read(std::move(ctx), boost::asio::buffer(out));
  out.resize(r.value);
  co_return r;
}

Context done_context() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  return ctx;
}

TEST_P(TcpDoneContextTest, ReadSomeWithBytesWaitingMovesNothing) {
  ConnPair p = pair();
  ASSERT_FALSE(run(write_on(p.client, cogo::background(), "first")).error);
  ASSERT_TRUE(cogo::test::eventually([&] { return p.server.socket().available() == 5; }));
  std::string got;
  auto r = run(read_some_on(p.server, done_context(), got));
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_EQ(r.value, 0u) << "read \"" << got << "\" on a done context";
  // Still there for a live context (bounded: before the fix the bytes were gone).
  auto [live, stop] = cogo::with_timeout(cogo::background(), std::chrono::seconds(2));
  r = run(read_some_on(p.server, live, got));
  EXPECT_FALSE(r.error) << r.error;
  EXPECT_EQ(got, "first");
}

TEST_P(TcpDoneContextTest, ReadWithAllBytesWaitingMovesNothing) {
  ConnPair p = pair();
  ASSERT_FALSE(run(write_on(p.client, cogo::background(), "abcd")).error);
  ASSERT_TRUE(cogo::test::eventually([&] { return p.server.socket().available() == 4; }));
  std::string got;
  auto r = run(read_on(p.server, done_context(), got, 4));
  EXPECT_TRUE(r.error.is(cogo::errc::canceled)) << r.error;
  EXPECT_EQ(r.value, 0u) << "read \"" << got << "\" on a done context";
}

TEST_P(TcpDoneContextTest, WriteWithRoomInTheBufferSendsNothing) {
  ConnPair p = pair();
  auto w = run(write_on(p.server, done_context(), "not sent"));
  EXPECT_TRUE(w.error.is(cogo::errc::canceled)) << w.error;
  EXPECT_EQ(w.value, 0u);
  // Nothing arrived: the next thing the client reads is what a live context sends.
  ASSERT_FALSE(run(write_on(p.server, cogo::background(), "sent")).error);
  std::string got;
  EXPECT_FALSE(run(read_on(p.client, cogo::background(), got, 4)).error);
  EXPECT_EQ(got, "sent");
}

TEST_P(TcpDoneContextTest, AcceptWithAConnectionInTheBacklogTakesNone) {
  Listener ln = run(cogo::test::listen_local());
  auto dialled = run([](std::string address) -> Task<IoResult<Conn>> {
    co_return co_await cogo::asio::dial(cogo::background(), address);
  }(ln.address()));
  ASSERT_FALSE(dialled.error) << dialled.error;
  auto accepted = run([](Listener& l) -> Task<IoResult<Conn>> {
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    cancel();
    co_return co_await l.accept(ctx);
  }(ln));
  EXPECT_TRUE(accepted.error.is(cogo::errc::canceled)) << accepted.error;
  EXPECT_FALSE(accepted.value);
  accepted.value.close();
  dialled.value.close();
  ln.close();
}

COGO_RUNTIME_TEST_SUITE(TcpDoneContextTest);

}  // namespace
