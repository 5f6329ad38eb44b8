// Regression: an I/O awaitable kept in a variable and
// co_awaited a second time. Before the fix the second co_await started another read but
// returned at once with the first read's result (WaitState's phase was left "woken"),
// and when that read completed it wrote into the coroutine frame and resumed it again,
// after the task had finished (heap-use-after-free under AddressSanitizer). The
// awaitables are one-shot: a second co_await must be refused (usage_error) without
// starting anything.
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/error.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;
using cogo::asio::Conn;
using cogo::test::ConnPair;

class TcpAwaitOnceTest : public cogo::test::RuntimeTest {
 protected:
  ConnPair pair() { return cogo::test::make_pair([this](auto t) { return run(std::move(t)); }); }
};

struct Outcome {
  std::size_t first = 0;
  bool refused = false;       // the second co_await threw usage_error
  bool returned = false;      // ... or returned a value although nothing was sent
};

Task<Outcome> await_twice(Conn& c) {
  Outcome out;
  char buf[1];
  auto op = c.read_some(cogo::background(), boost::asio::buffer(buf));
  out.first = (co_await op).value;
  try {
    (void)co_await op;
    out.returned = true;
  } catch (const cogo::usage_error&) {
    out.refused = true;
  }
  co_return out;
}

Task<> write_byte(Conn& c, char b) { (void)co_await c.write(cogo::background(), boost::asio::buffer(&b, 1)); }

TEST_P(TcpAwaitOnceTest, ASecondCoAwaitOfTheSameReadIsRefused) {
  ConnPair p = pair();
  run(write_byte(p.client, 'a'));
  Outcome o = run(await_twice(p.server));
  EXPECT_EQ(o.first, 1u);
  EXPECT_FALSE(o.returned) << "the second co_await returned while its read was still pending";
  EXPECT_TRUE(o.refused);
  // Nothing must be left reading on the socket: this byte is not read into a dead frame.
  run(write_byte(p.client, 'b'));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(cogo::asio::pending_operations(), 0);
  p.client.close();
  p.server.close();
}

COGO_RUNTIME_TEST_SUITE(TcpAwaitOnceTest);

}  // namespace
