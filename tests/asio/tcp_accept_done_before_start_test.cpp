// Regression: Listener::accept checks ctx.is_done() in the calling task, but an accept
// awaited on a worker that does not own the listener starts later, posted to the owner.
// A context that ends in between must stop the start; for Listener::accept's
// async_accept(io_context_here(), ...) that check was compiled out, and the waiting
// connection was taken on a done context (5 of 5 failed before). Deterministic: the
// owner's only worker is kept busy until the context is cancelled.
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::asio::Listener;

Task<> spin_until(std::atomic<bool>& release) {
  while (!release.load(std::memory_order_acquire)) std::this_thread::sleep_for(1ms);
  co_return;
}

Task<IoResult<Conn>> accept_one(Listener& ln, cogo::Context ctx) { co_return co_await ln.accept(ctx); }

TEST(TcpAcceptDoneBeforeStartTest, AnAcceptWhoseContextEndsBeforeItStartsTakesNoConnection) {
  cogo::Scheduler owner({.workers = 1});   // owns the listener
  cogo::Scheduler waiter({.workers = 1});  // runs the accept
  Listener ln = owner.block_on(cogo::test::listen_local());
  boost::asio::io_context plain;
  boost::asio::ip::tcp::socket client(plain);
  client.connect({boost::asio::ip::make_address("127.0.0.1"), ln.port()});  // in the backlog

  std::atomic<bool> release{false};
  owner.go(spin_until(release));  // the owner's only worker is busy: a posted start waits
  std::this_thread::sleep_for(50ms);

  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  IoResult<Conn> r;
  std::thread t([&] { r = waiter.block_on(accept_one(ln, ctx)); });
  std::this_thread::sleep_for(200ms);  // accept checked its context (not done), start posted
  cancel();                            // done before the accept has started
  std::this_thread::sleep_for(50ms);
  release.store(true, std::memory_order_release);
  t.join();

  EXPECT_TRUE(r.error) << "accepted " << r.value.peer() << " on a context done before the accept started";
  EXPECT_FALSE(r.value);
  r.value = Conn();
  ln.close();
  ln = Listener();
}

}  // namespace
