// cogo::asio under races on real threads and real loopback sockets: close() from another
// worker racing an operation's start. Outcomes are asserted, not just survived. Run
// under ThreadSanitizer and AddressSanitizer too (smaller counts there).
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Context;
using cogo::Task;
using cogo::asio::Conn;
using cogo::test::ConnPair;

class TcpRaceStressTest : public cogo::test::RuntimeTest {};

// One read per pair, started from this scheduler on a socket of another, while a task
// here closes the connection: the close and the read's start meet on the owner's worker.
Task<cogo::Error> read_one(Conn& c) {
  char b[8];
  auto r = co_await c.read_some(cogo::background(), boost::asio::buffer(b));
  co_return r.error;
}
Task<> close_it(Conn& c) {
  (void)c.close();
  co_return;
}
Task<int> close_racing_reads(std::vector<ConnPair>& pairs) {
  int closed = 0;
  for (ConnPair& p : pairs) {
    cogo::go(close_it(p.server));
    const cogo::Error err = co_await read_one(p.server);
    if (cogo::asio::is_closed(err)) {
      ++closed;
    } else {
      ADD_FAILURE() << "a read raced by close(): " << err;
    }
  }
  co_return closed;
}

TEST_P(TcpRaceStressTest, CloseFromAnotherWorkerRacingAnOperationsStart) {
  auto other = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 1});
  const int n = cogo::test::scaled(300);
  std::vector<ConnPair> pairs;
  {
    cogo::asio::Listener ln = other->block_on(cogo::test::listen_local());
    for (int i = 0; i < n; ++i) pairs.push_back(other->block_on(cogo::test::connect_pair(ln)));
    ln.close();
  }
  EXPECT_EQ(run(close_racing_reads(pairs)), n);
  pairs.clear();
  other.reset();
}

COGO_RUNTIME_TEST_SUITE(TcpRaceStressTest);

}  // namespace
