// Regression: a lookup left behind by a cancelled dial. When lookups ran on the worker
// io_context's resolver (one getaddrinfo at a time per io_context):
//  1. the next dial on the same worker, even of "localhost", queued behind it and failed
//     with its own deadline although its name resolves at once;
//  2. the Scheduler's destructor joined the resolver's thread, so destroying the
//     scheduler waited for the abandoned getaddrinfo.
// Lookups now run on threads of their own. Interposes getaddrinfo for names ending in
// ".slow": its own test binary.
#include "cogo/asio/tcp.hpp"

#include <dlfcn.h>
#include <netdb.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/error.hpp"
#include "cogo/scheduler.hpp"

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                           struct addrinfo** res) {
  using Fn = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
  const std::size_t n = node != nullptr ? std::strlen(node) : 0;
  if (n > 5 && std::strcmp(node + n - 5, ".slow") == 0) {
    ::sleep(3);  // a DNS server that takes 3 s to answer
    return EAI_NONAME;
  }
  return real(node, service, hints, res);
}

namespace {

using namespace std::chrono_literals;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;

Task<IoResult<Conn>> dial_with_timeout(std::string address, std::chrono::milliseconds timeout) {
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), timeout);
  co_return co_await cogo::asio::dial(ctx, address);
}

TEST(TcpDialLookupLeftBehindTest, AnAbandonedLookupDoesNotDelayTheNextDialOnItsWorker) {
  cogo::Scheduler sched({.workers = 1});
  cogo::asio::Listener ln = sched.block_on(cogo::test::listen_local());
  auto r1 = sched.block_on(dial_with_timeout("example.slow:80", 200ms));
  ASSERT_TRUE(r1.error.is(cogo::errc::deadline_exceeded)) << r1.error;
  const auto t0 = std::chrono::steady_clock::now();
  auto r2 = sched.block_on(dial_with_timeout("localhost:" + std::to_string(ln.port()), 1000ms));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_FALSE(r2.error) << r2.error << " (after " << took.count() << " ms)";
  EXPECT_LT(took, 500ms);
  r2.value = Conn();
  ln.close();
  ln = cogo::asio::Listener();
}

TEST(TcpDialLookupLeftBehindTest, DestroyingTheSchedulerDoesNotWaitForAnAbandonedLookup) {
  auto sched = std::make_unique<cogo::Scheduler>(cogo::SchedulerOptions{.workers = 1});
  auto r1 = sched->block_on(dial_with_timeout("example.slow:80", 200ms));
  ASSERT_TRUE(r1.error.is(cogo::errc::deadline_exceeded)) << r1.error;
  const auto t0 = std::chrono::steady_clock::now();
  sched.reset();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(took, 1000ms) << "~Scheduler took " << took.count() << " ms";
}

}  // namespace
