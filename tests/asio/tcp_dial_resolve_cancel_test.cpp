// Regression: dial() must end when its context is done
// while the name is still being resolved, as Go's Dial(ctx) does. Asio 1.81's resolver
// takes no cancellation slot, so before the fix the dial waited for getaddrinfo (here a
// simulated DNS server that answers after 3 s) and then reported the resolver's error
// instead of the deadline. This file interposes getaddrinfo for names ending in ".slow"
// only, so it must be its own test binary.
#include "cogo/asio/tcp.hpp"

#include <dlfcn.h>
#include <netdb.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>

#include "cogo/context.hpp"
#include "cogo/error.hpp"
#include "support/runtime_fixture.hpp"

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
using ::testing::HasSubstr;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;

class TcpDialResolveCancelTest : public cogo::test::RuntimeTest {};

Task<IoResult<Conn>> dial_with_timeout(std::string address, std::chrono::milliseconds timeout) {
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), timeout);
  co_return co_await cogo::asio::dial(ctx, address);
}

TEST_P(TcpDialResolveCancelTest, DeadlineEndsADialThatIsStillResolving) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(dial_with_timeout("example.slow:80", 200ms));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 1500ms) << "the dial waited for the resolver, not for its deadline";
  ASSERT_TRUE(r.error);
  EXPECT_TRUE(r.error.is(cogo::errc::deadline_exceeded)) << r.error;
  EXPECT_THAT(r.error.to_string(), HasSubstr("example.slow:80"));
  EXPECT_FALSE(r.value);
}

COGO_RUNTIME_TEST_SUITE(TcpDialResolveCancelTest);

}  // namespace
