// Regression: sockets that outlive the Scheduler whose worker owns them. The Scheduler
// freed its io_contexts, and destroying a Conn or Listener afterwards ran Asio's socket
// destructor on freed memory (ASan: heap-use-after-free in
// reactive_socket_service_base::destroy), unreported. Now the Scheduler says on stderr
// which sockets were still open, shuts them down and marks them closed, and keeps its
// io_contexts: a late operation fails at once with errc::closed, and destroying the
// objects is harmless.
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "asio/asio_support.hpp"
#include "cogo/scheduler.hpp"

namespace {

using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::asio::Listener;

Task<IoResult<std::size_t>> read_one(Conn& c) {
  char b = 0;
  co_return co_await c.read_some(cogo::background(), boost::asio::buffer(&b, 1));
}

Task<IoResult<Conn>> accept_one(Listener& ln) { co_return co_await ln.accept(cogo::background()); }

TEST(TcpSchedulerLifetimeTest, SocketsThatOutliveTheirSchedulerAreClosedNotFreed) {
  cogo::test::ConnPair p;  // declared before the scheduler: destroyed after it
  Listener kept;
  ::testing::internal::CaptureStderr();
  {
    auto sched = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 2});
    Listener ln = sched->block_on(cogo::test::listen_local());
    p = sched->block_on(cogo::test::connect_pair(ln));
    ASSERT_TRUE(p.client);
    kept = ln;  // still listening when the scheduler ends
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("a Scheduler ended with 3 socket(s) still open"), std::string::npos) << err;
  EXPECT_NE(err.find("made at tests/asio/"), std::string::npos) << err;
  EXPECT_NE(err.find("listener on " + kept.address()), std::string::npos) << err;
  EXPECT_FALSE(p.client);
  EXPECT_FALSE(p.server);
  EXPECT_FALSE(kept);
  // Operations from another scheduler end at once, as on a closed socket.
  cogo::Scheduler other({.workers = 1});
  auto r = other.block_on(read_one(p.client));
  EXPECT_TRUE(cogo::asio::is_closed(r.error)) << r.error;
  auto a = other.block_on(accept_one(kept));
  EXPECT_TRUE(cogo::asio::is_closed(a.error)) << a.error;
  p.client = Conn();  // destroyed: must not touch freed memory
  p.server = Conn();
  kept = Listener();
  EXPECT_EQ(cogo::asio::open_sockets(), 0);
}

}  // namespace
