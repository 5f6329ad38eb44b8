// Regression: the "done context: not started" rule for an accept whose peer socket is on
// another executor type. Listener::accept (and any acceptor.async_accept(io_context&,
// use_task(ctx))) gets a basic_stream_socket<tcp, io_context::executor_type>, which the
// acceptor's any_io_executor cannot make, so the rule was compiled out: the accept started
// on a done context and Asio's speculative accept took the connection waiting in the
// backlog (3 of 3 failed before). The unopened socket is now made on the executor the
// accept was given.
#include "cogo/asio/io.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "cogo/context.hpp"
#include "support/runtime_fixture.hpp"

namespace {

namespace ip = boost::asio::ip;
using cogo::Task;

class UseTaskAcceptIntoContextDoneTest : public cogo::test::RuntimeTest {};

struct Outcome {
  boost::system::error_code ec;
  bool accepted = false;
  bool still_waiting = false;
};

Task<Outcome> accept_into_io_context_on_done_context() {
  Outcome out;
  ip::tcp::acceptor acc(cogo::asio::io_context_here(), ip::tcp::endpoint(ip::make_address("127.0.0.1"), 0));
  ip::tcp::socket client(cogo::asio::io_context_here());
  client.connect(acc.local_endpoint());  // waiting in the backlog
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  // The form Listener::accept uses (src/asio/tcp.cpp): the peer goes to a given io_context.
  auto [ec, peer] = co_await acc.async_accept(cogo::asio::io_context_here(), cogo::asio::use_task(ctx));
  out.ec = ec;
  out.accepted = peer.is_open();
  acc.non_blocking(true);
  boost::system::error_code again;
  ip::tcp::socket later = acc.accept(again);
  out.still_waiting = !again && later.is_open();
  co_return out;
}

TEST_P(UseTaskAcceptIntoContextDoneTest, AcceptIntoAnIoContextOnADoneContextTakesNoConnection) {
  Outcome o = run(accept_into_io_context_on_done_context());
  EXPECT_EQ(o.ec, boost::asio::error::operation_aborted) << o.ec.message();
  EXPECT_FALSE(o.accepted);
  EXPECT_TRUE(o.still_waiting) << "the waiting connection was taken on a done context";
}

COGO_RUNTIME_TEST_SUITE(UseTaskAcceptIntoContextDoneTest);

}  // namespace
