// cogo::asio's connections fail as tcp.hpp documents, on real loopback sockets: a peer
// that closes (EOF), resets (ECONNRESET) or half-closes; a dial refused or unresolvable;
// listen on a bad or busy address; use of a closed or empty connection (errc::closed, as
// Go's net.ErrClosed). Every error text
// names the operation and the peer.
#include "cogo/asio/tcp.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <system_error>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/error.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using cogo::Error;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::IoResult;
using cogo::asio::Listener;
using cogo::test::ConnPair;

class TcpErrorsTest : public cogo::test::RuntimeTest {
 protected:
  ConnPair pair() { return cogo::test::make_pair([this](auto t) { return run(std::move(t)); }); }
};

Task<IoResult<std::size_t>> read_n(Conn& c, std::size_t n, std::string& out) {
  out.assign(n, '\0');
  auto r = co_await c.read(cogo::background(), boost::asio::buffer(out));
  out.resize(r.value);
  co_return r;
}

Task<IoResult<std::size_t>> write_text(Conn& c, std::string text) {
  co_return co_await c.write(cogo::background(), boost::asio::buffer(text));
}

TEST_P(TcpErrorsTest, PeerCloseIsEofNamingTheReadAndThePeer) {
  ConnPair p = pair();
  ASSERT_FALSE(p.server.close());
  std::string got;
  auto [n, err] = run(read_n(p.client, 8, got));
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(err);
  EXPECT_TRUE(cogo::asio::is_eof(err)) << err;
  EXPECT_EQ(err.code(), cogo::asio::make_error_code(cogo::asio::errc::eof));
  EXPECT_THAT(err.to_string(), StartsWith("read from " + p.client.peer() + ": peer closed the connection"));
}

TEST_P(TcpErrorsTest, ReadReportsTheBytesThatCameBeforeEof) {
  ConnPair p = pair();
  EXPECT_FALSE(run(write_text(p.server, "abcd")).error);
  ASSERT_FALSE(p.server.close());
  std::string got;
  auto [n, err] = run(read_n(p.client, 10, got));
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(got, "abcd");
  EXPECT_TRUE(cogo::asio::is_eof(err)) << err;
}

TEST_P(TcpErrorsTest, PeerResetIsConnectionReset) {
  ConnPair p = pair();
  // SO_LINGER with a zero timeout: close() sends RST instead of FIN.
  p.server.socket().set_option(boost::asio::socket_base::linger(true, 0));
  ASSERT_FALSE(p.server.close());
  std::string got;
  auto [n, err] = run(read_n(p.client, 8, got));
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(err);
  EXPECT_TRUE(err.is(std::errc::connection_reset)) << err;
  EXPECT_FALSE(cogo::asio::is_eof(err));
  EXPECT_THAT(err.to_string(), StartsWith("read from " + p.client.peer() + ": "));
  // The connection is gone: a write fails too, naming the write.
  auto w = run(write_text(p.client, "late"));
  ASSERT_TRUE(w.error);
  EXPECT_TRUE(w.error.is(std::errc::broken_pipe) || w.error.is(std::errc::connection_reset)) << w.error;
  EXPECT_THAT(w.error.to_string(), StartsWith("write to " + p.client.peer() + ": "));
}

TEST_P(TcpErrorsTest, HalfCloseLetsThePeerReadEofAndStillWriteBack) {
  ConnPair p = pair();
  EXPECT_FALSE(run(write_text(p.client, "last words")).error);
  ASSERT_FALSE(p.client.shutdown());  // shutdown_send
  std::string got;
  auto r = run(read_n(p.server, 64, got));
  EXPECT_EQ(got, "last words");
  EXPECT_TRUE(cogo::asio::is_eof(r.error)) << r.error;
  // The other direction is still open.
  EXPECT_FALSE(run(write_text(p.server, "reply")).error);
  auto back = run(read_n(p.client, 5, got));
  EXPECT_FALSE(back.error) << back.error;
  EXPECT_EQ(got, "reply");
  // This side can no longer send.
  auto w = run(write_text(p.client, "more"));
  EXPECT_TRUE(w.error.is(std::errc::broken_pipe)) << w.error;
}

Task<IoResult<Conn>> dial_to(std::string address) { co_return co_await cogo::asio::dial(cogo::background(), address); }

TEST_P(TcpErrorsTest, DialToAClosedPortIsRefused) {
  Listener ln = run(cogo::test::listen_local());
  const std::string address = ln.address();
  ASSERT_FALSE(ln.close());  // nothing listens on the port now
  auto [conn, err] = run(dial_to(address));
  EXPECT_FALSE(conn);
  ASSERT_TRUE(err);
  EXPECT_TRUE(err.is(std::errc::connection_refused)) << err;
  EXPECT_THAT(err.to_string(), StartsWith("connect to " + address + ": Connection refused"));
}

TEST_P(TcpErrorsTest, DialThatCannotResolveSaysResolve) {
  // An unknown service name fails in getaddrinfo itself, with no DNS query.
  auto [conn, err] = run(dial_to("localhost:no-such-service-cogo"));
  EXPECT_FALSE(conn);
  ASSERT_TRUE(err);
  EXPECT_THAT(err.to_string(), StartsWith("resolve localhost:no-such-service-cogo: "));
}

TEST_P(TcpErrorsTest, DialOfSomethingNotHostPortIsInvalidArgument) {
  auto [conn, err] = run(dial_to("no port here"));
  EXPECT_FALSE(conn);
  EXPECT_TRUE(err.is(std::errc::invalid_argument)) << err;
  EXPECT_THAT(err.to_string(), HasSubstr("not host:port"));
}

TEST_P(TcpErrorsTest, ListenOnABadOrBusyAddressFails) {
  auto bad = cogo::asio::listen("127.0.0.1");
  EXPECT_TRUE(bad.error.is(std::errc::invalid_argument)) << bad.error;
  auto not_ip = cogo::asio::listen("not-an-ip:80");
  EXPECT_TRUE(not_ip.error) << "a host name is not an address to bind";
  EXPECT_THAT(not_ip.error.to_string(), HasSubstr("listen on \"not-an-ip:80\""));
  Listener first = run(cogo::test::listen_local());
  auto second = cogo::asio::listen(first.address());
  EXPECT_TRUE(second.error.is(std::errc::address_in_use)) << second.error;
  EXPECT_THAT(second.error.to_string(), HasSubstr("listen on " + first.address()));
  first.close();
}

Task<IoResult<Conn>> accept_on(Listener& ln) { co_return co_await ln.accept(cogo::background()); }

TEST_P(TcpErrorsTest, AcceptOnAClosedListenerFailsNamingIt) {
  Listener ln = run(cogo::test::listen_local());
  const std::string address = ln.address();
  ASSERT_FALSE(ln.close());
  EXPECT_FALSE(ln.close()) << "closing twice is not an error";
  auto [conn, err] = run(accept_on(ln));
  EXPECT_FALSE(conn);
  ASSERT_TRUE(err);
  EXPECT_TRUE(cogo::asio::is_closed(err)) << err;
  EXPECT_THAT(err.to_string(), StartsWith("accept on " + address + ": use of closed network connection"));
  Listener empty;
  auto e = run(accept_on(empty));
  EXPECT_THAT(e.error.to_string(), HasSubstr("empty Listener"));
}

TEST_P(TcpErrorsTest, ReadAndWriteAfterCloseFailAtOnce) {
  ConnPair p = pair();
  const std::string peer = p.client.peer();
  ASSERT_FALSE(p.client.close());
  EXPECT_FALSE(p.client.close()) << "closing twice is not an error";
  EXPECT_FALSE(p.client);
  std::string got;
  auto r = run(read_n(p.client, 4, got));
  ASSERT_TRUE(r.error);
  EXPECT_TRUE(cogo::asio::is_closed(r.error)) << r.error;
  EXPECT_THAT(r.error.to_string(), StartsWith("read from " + peer + ": use of closed network connection"));
  auto w = run(write_text(p.client, "x"));
  ASSERT_TRUE(w.error);
  EXPECT_TRUE(cogo::asio::is_closed(w.error)) << w.error;
  EXPECT_THAT(w.error.to_string(), StartsWith("write to " + peer + ": use of closed network connection"));
}

Task<Error> close_conn(Conn& c) { co_return c.close(); }

Task<> read_then_signal(Conn& c, std::string& got, IoResult<std::size_t>& result,
                        cogo::test::Signal done) {
  result = co_await read_n(c, 4, got);
  done.set();
}

TEST_P(TcpErrorsTest, CloseWhileAReadIsPendingEndsIt) {
  ConnPair p = pair();
  cogo::test::Signal done;
  IoResult<std::size_t> result;
  std::string got;
  sched().go(read_then_signal(p.client, got, result, done));
  ASSERT_TRUE(until_waiting(1, cogo::detail::WaitReason::io_wait));
  EXPECT_FALSE(run(close_conn(p.client)));
  ASSERT_TRUE(done.wait_for());
  ASSERT_TRUE(result.error);
  EXPECT_TRUE(cogo::asio::is_closed(result.error)) << result.error;
  EXPECT_THAT(result.error.to_string(),
              StartsWith("read from " + p.server.local() + ": use of closed network connection"));
}

TEST_P(TcpErrorsTest, AnEmptyConnRefusesEveryOperationClearly) {
  Conn empty;
  EXPECT_FALSE(empty);
  EXPECT_EQ(empty.peer(), "");
  EXPECT_EQ(empty.local(), "");
  std::string got;
  EXPECT_THROW(run(read_n(empty, 4, got)), cogo::usage_error);
  EXPECT_THROW(run(write_text(empty, "x")), cogo::usage_error);
  EXPECT_THAT(empty.shutdown().to_string(), HasSubstr("empty Conn"));
  EXPECT_FALSE(empty.close());
  ConnPair p = pair();
  Conn moved = std::move(p.client);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(p.client);  // NOLINT(bugprone-use-after-move): a moved-from Conn is empty
  EXPECT_THROW(run(write_text(p.client, "x")), cogo::usage_error);
}

COGO_RUNTIME_TEST_SUITE(TcpErrorsTest);

}  // namespace
