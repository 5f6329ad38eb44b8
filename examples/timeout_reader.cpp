// A client reading from a server that stalls. The per-read deadline of a TimeoutStream
// fires first and says so, with where it was set; the stream stays usable. Then the
// request's own context deadline, shorter than the per-read one, ends a read, and the
// error names the context's deadline instead.
#include <cogo/asio/tcp.hpp>
#include <cogo/asio/timeout_stream.hpp>
#include <cogo/context.hpp>
#include <cogo/scheduler.hpp>
#include <cogo/task.hpp>
#include <cogo/timer.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

using namespace std::chrono_literals;
using cogo::asio::Conn;
using cogo::asio::TimeoutStream;

// Sends one line, stalls for `stall`, sends another, then stalls until the client closes.
cogo::Task<> stalling_server(cogo::asio::Listener& ln, std::chrono::milliseconds stall) {
  auto [conn, err] = co_await ln.accept(cogo::background());
  if (err) co_return;
  const std::string first = "hello\n";
  (void)co_await conn.write(cogo::background(), boost::asio::buffer(first));
  co_await cogo::sleep(stall);
  const std::string second = "late\n";
  (void)co_await conn.write(cogo::background(), boost::asio::buffer(second));
  char b[1];
  (void)co_await conn.read_some(cogo::background(), boost::asio::buffer(b));  // EOF
  (void)conn.close();
}

cogo::Task<> read_lines(TimeoutStream& s, const cogo::Context& ctx, int reads) {
  for (int i = 0; i < reads; ++i) {
    char buf[64];
    auto [n, err] = co_await s.read_some(ctx, boost::asio::buffer(buf));
    if (err) {
      std::cout << "read " << i + 1 << ": " << err << "\n";
      std::cout << "   timeout? " << (err.is_timeout() ? "yes" : "no") << "; per-read deadline? "
                << (err.is(cogo::asio::errc::read_timeout) ? "yes" : "no") << "\n";
      continue;
    }
    std::cout << "read " << i + 1 << ": " << std::string(buf, n);
  }
}

cogo::Task<> client() {
  auto [ln, lerr] = cogo::asio::listen("127.0.0.1:0");
  if (lerr) {
    std::cout << lerr << "\n";
    co_return;
  }
  cogo::go(stalling_server(ln, 150ms));
  auto [conn, err] = co_await cogo::asio::dial(cogo::background(), ln.address());
  if (err) {
    std::cout << err << "\n";
    co_return;
  }
  TimeoutStream s(std::move(conn));
  s.set_read_timeout(100ms);

  std::cout << "-- the per-read deadline (100ms) fires while the server stalls (150ms); the next read\n"
               "   has its own 100ms and gets the late line:\n";
  co_await read_lines(s, cogo::background(), 3);

  std::cout << "-- the context's deadline (50ms), earlier than the per-read one:\n";
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 50ms);
  co_await read_lines(s, ctx, 1);
  (void)s.close();
  (void)ln.close();
}

}  // namespace

int main() {
  std::cout << "== timeout_reader: a per-read deadline and the context's own, each named ==\n";
  cogo::Scheduler sched(cogo::SchedulerOptions{.workers = 2});
  sched.block_on(client());
}
