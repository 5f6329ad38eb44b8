// Regression: a Conn destroyed while another task's
// operation on it is pending. The operation ends (aborted by the close or by the
// socket's destruction) and its awaitable turns the result into an IoResult through a
// raw pointer to the ConnState, which is gone: heap-use-after-free under
// AddressSanitizer before the fix (Conn::Result::operator(), tcp.hpp). The pending
// operation must keep what it uses alive and end with errc::closed. And a cancel of the
// read's context just before the destruction posts an emit that ran after the socket was
// gone: Asio's reactor_op_cancellation then read the freed socket (heap-use-after-free in
// epoll_reactor::cancel_ops_by_key): an emit after the operation's socket is gone,
// reached through CancelBlock, whose pending_ flag says "not completed" but not "socket alive".
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/error.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::detail::WaitReason;
using cogo::test::ConnPair;
using cogo::test::Signal;

enum class How { close_then_destroy_in_task, close_then_destroy_outside, destroy_in_task, cancel_then_destroy_in_task };

// Reads on `c` and records the result; never touches `c` again after the read.
Task<> read_once(Conn& c, cogo::Context ctx, IoResult<std::size_t>& out, Signal done) {
  char buf[16];
  out = co_await c.read_some(std::move(ctx), boost::asio::buffer(buf));
  done.set();
}

Task<> close_and_destroy(std::unique_ptr<Conn> s, bool close, cogo::CancelFunc* cancel) {
  if (close) (void)s->close();
  if (cancel != nullptr) (*cancel)();
  s.reset();
  co_return;
}

class TcpConnLifetimeTest : public cogo::test::RuntimeTest {
 protected:
  void destroy_under_pending_read(How how) {
    ConnPair p = cogo::test::make_pair([this](auto t) { return run(std::move(t)); });
    auto session = std::make_unique<Conn>(std::move(p.server));
    IoResult<std::size_t> r;
    Signal done;
    auto [ctx, cancel] = cogo::with_cancel(cogo::background());
    sched().go(read_once(*session, ctx, r, done));
    ASSERT_TRUE(until_waiting(1, WaitReason::io_wait));
    if (how == How::close_then_destroy_outside) {
      (void)session->close();
      session.reset();
    } else {
      run(close_and_destroy(std::move(session), how == How::close_then_destroy_in_task,
                            how == How::cancel_then_destroy_in_task ? &cancel : nullptr));
    }
    ASSERT_TRUE(done.wait_for());
    EXPECT_EQ(r.value, 0u);
    ASSERT_TRUE(r.error);
    if (how == How::cancel_then_destroy_in_task) {
      // Either ending is right: the cancel and the destruction came together.
      EXPECT_TRUE(cogo::asio::is_closed(r.error) || r.error.is(cogo::errc::canceled)) << r.error;
    } else {
      EXPECT_TRUE(cogo::asio::is_closed(r.error)) << r.error;
    }
    p.client.close();
  }
};

TEST_P(TcpConnLifetimeTest, CloseThenDestroyOnTheOwnerWhileAReadIsPending) {
  destroy_under_pending_read(How::close_then_destroy_in_task);
}

TEST_P(TcpConnLifetimeTest, CloseThenDestroyFromAPlainThreadWhileAReadIsPending) {
  destroy_under_pending_read(How::close_then_destroy_outside);
}

TEST_P(TcpConnLifetimeTest, DestroyWithoutCloseWhileAReadIsPending) {
  destroy_under_pending_read(How::destroy_in_task);
}

TEST_P(TcpConnLifetimeTest, CancelThenDestroyWhileAReadIsPending) {
  destroy_under_pending_read(How::cancel_then_destroy_in_task);
}

COGO_RUNTIME_TEST_SUITE(TcpConnLifetimeTest);

}  // namespace
