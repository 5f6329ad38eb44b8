// Helpers shared by cogo::asio's tests: a loopback listener, a connected pair of Conns,
// and a byte pattern whose every position is known, so that a reader can check that each
// byte it gets is the next one sent (nothing lost, nothing twice, nothing reordered).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "cogo/asio/tcp.hpp"
#include "cogo/context.hpp"
#include "cogo/task.hpp"

namespace cogo::test {

// Both ends of one loopback connection, made on the calling worker.
struct ConnPair {
  asio::Conn client;  // dialled
  asio::Conn server;  // accepted
};

// A listener on 127.0.0.1 and a free port, made in a task so that it belongs to one of
// the scheduler's workers (made on a plain thread, it would belong to the default
// scheduler's); fails the test if there is none.
inline Task<asio::Listener> listen_local() {
  auto [ln, err] = asio::listen("127.0.0.1:0");
  EXPECT_FALSE(err) << err;
  co_return std::move(ln);
}

// Dials `ln` and accepts the connection. The kernel completes the handshake from the
// listen backlog, so the dial ends before the accept starts and one task can do both.
inline Task<ConnPair> connect_pair(asio::Listener& ln) {
  ConnPair p;
  auto [client, derr] = co_await asio::dial(background(), ln.address());
  EXPECT_FALSE(derr) << derr;
  auto [server, aerr] = co_await ln.accept(background());
  EXPECT_FALSE(aerr) << aerr;
  p.client = std::move(client);
  p.server = std::move(server);
  co_return p;
}

// A listener and a pair on it, made by a task: the sockets then belong to one of the
// scheduler's workers. `run` is the fixture's block_on.
template <class Run>
ConnPair make_pair(Run&& run) {
  asio::Listener ln = run(listen_local());
  ConnPair p = run(connect_pair(ln));
  ln.close();
  return p;
}

// The byte at position `i` of the test stream: not periodic in any small power of two,
// so a lost, repeated or swapped chunk changes what a reader sees.
inline char pattern_byte(std::uint64_t i) {
  return static_cast<char>((i * 2654435761u) >> 13);
}
inline std::string pattern(std::uint64_t from, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t k = 0; k < n; ++k) s[k] = pattern_byte(from + k);
  return s;
}
// The first position in [from, from + n) where `data` differs from the pattern, or -1.
inline long long pattern_mismatch(const char* data, std::uint64_t from, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    if (data[k] != pattern_byte(from + k)) return static_cast<long long>(from + k);
  }
  return -1;
}

}  // namespace cogo::test
