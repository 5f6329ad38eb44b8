// Regression: Conn::shutdown() may be called from any thread, but it checked the closed
// flag and then called Asio's socket.shutdown(), which reads the descriptor, while a
// close() on the owning worker wrote it (socket_ = -1): a data race under
// ThreadSanitizer, and with an accept or dial reusing the descriptor number, a shutdown
// of an unrelated socket. The descriptor is now read and closed under the state's lock.
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "asio/asio_support.hpp"
#include "cogo/scheduler.hpp"

namespace {

using cogo::Task;
using cogo::asio::Conn;

Task<void> close_on_owner(Conn& c, std::atomic<bool>& go) {
  while (!go.load(std::memory_order_acquire)) {
  }
  (void)c.close();  // on the owning worker: the socket is closed at once
  co_return;
}

TEST(TcpShutdownCloseRaceTest, ShutdownFromAnotherThreadRacesAnOwnerClose) {
  cogo::Scheduler sched({.workers = 1});
  for (int i = 0; i < 200; ++i) {
    cogo::test::ConnPair p = cogo::test::make_pair([&](auto&& t) { return sched.block_on(std::move(t)); });
    std::atomic<bool> go{false};
    std::thread other([&] {
      go.store(true, std::memory_order_release);
      for (int k = 0; k < 50; ++k) (void)p.server.shutdown(boost::asio::socket_base::shutdown_receive);
    });
    sched.block_on(close_on_owner(p.server, go));
    other.join();
  }
}

}  // namespace
