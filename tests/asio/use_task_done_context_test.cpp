// Regression: the generic token use_task(ctx) on a context that is already done must not
// start the operation. An operation whose results all have an empty value completes at
// once with operation_aborted; an accept's socket has no empty value, so the accept used
// to be started, and a connection waiting in the backlog was taken inside the initiation
// (Asio's speculative accept) before emit_now() could cancel anything. The accept must
// end with operation_aborted and take nothing.
#include "cogo/asio/io.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "cogo/context.hpp"
#include "support/runtime_fixture.hpp"

namespace {

namespace ip = boost::asio::ip;
using cogo::Task;

class UseTaskDoneContextTest : public cogo::test::RuntimeTest {};

struct Outcome {
  boost::system::error_code ec;
  bool accepted = false;
  bool still_waiting = false;  // the backlog still holds the connection afterwards
};

Task<Outcome> accept_on_done_context() {
  Outcome out;
  ip::tcp::acceptor acc(cogo::asio::io_context_here(), ip::tcp::endpoint(ip::make_address("127.0.0.1"), 0));
  ip::tcp::socket client(cogo::asio::io_context_here());
  client.connect(acc.local_endpoint());  // in the backlog, waiting to be accepted
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  auto [ec, peer] = co_await acc.async_accept(cogo::asio::use_task(ctx));
  out.ec = ec;
  out.accepted = peer.is_open();
  acc.non_blocking(true);
  boost::system::error_code again;
  ip::tcp::socket later = acc.accept(again);
  out.still_waiting = !again && later.is_open();
  co_return out;
}

TEST_P(UseTaskDoneContextTest, AcceptOnADoneContextTakesNoConnection) {
  Outcome o = run(accept_on_done_context());
  EXPECT_EQ(o.ec, boost::asio::error::operation_aborted) << o.ec.message();
  EXPECT_FALSE(o.accepted);
  EXPECT_TRUE(o.still_waiting) << "the waiting connection was taken on a done context";
}

COGO_RUNTIME_TEST_SUITE(UseTaskDoneContextTest);

}  // namespace
