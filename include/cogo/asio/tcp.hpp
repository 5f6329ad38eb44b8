// TCP connections for tasks, Go-style: listen, accept, dial, read and write, each taking
// a Context first and failing with a cogo::Error that says what failed, with whom, and
// why.
//
//   auto [ln, err] = cogo::asio::listen("127.0.0.1:0");        // bound and listening
//   auto [conn, err] = co_await ln.accept(ctx);
//   auto [conn, err] = co_await cogo::asio::dial(ctx, "127.0.0.1:8080");
//   auto [n, err] = co_await conn.read_some(ctx, boost::asio::buffer(buf));
//   auto [n, err] = co_await conn.read(ctx, boost::asio::buffer(buf));  // exactly all
//   auto [n, err] = co_await conn.read_until(ctx, line, "\n");
//   auto [n, err] = co_await conn.write(ctx, boost::asio::buffer(msg)); // all of it
//   conn.shutdown(); conn.close();
//
// Errors:
//   - the context ended the operation: code errc::canceled or errc::deadline_exceeded,
//     wrapping cogo::cause(ctx): "read from 127.0.0.1:5123 canceled: context deadline
//     exceeded (deadline set at handler.cpp:40, 2s)". An operation that completed as
//     the context ended reports its result; the next one fails at once.
//   - the peer closed the connection: code asio::errc::eof, "read from 127.0.0.1:5123:
//     peer closed the connection" (is_eof(err));
//   - this side closed the connection (close(), before or during the operation): code
//     asio::errc::closed, "read from 127.0.0.1:5123: use of closed network connection"
//     (Go's net.ErrClosed);
//   - any other socket error keeps its system code, so err.is(std::errc::connection_reset)
//     works: "write to 127.0.0.1:5123: Broken pipe".
// Reads and writes wait as "IO wait" in task dumps, with what and whom:
//   [IO wait: read 127.0.0.1:5123, 2.1s].
//
// Threading: a connection belongs to the io_context of the worker where it was accepted
// or dialled (io.hpp); an operation awaited on another worker is handed to it, and the
// task resumes there. Dialled and accepted connections have TCP_NODELAY set, as Go does.
// Thread safety: one operation of each direction at a time per connection (a read and a
//   write may be in flight together), as with any socket; close() from another task
//   while an operation is in flight ends it (errc::closed), and close() and shutdown()
//   may be called from any thread. Called off the connection's worker, close() shuts
//   the socket down at once (the peer reads EOF; operations in flight and later ones
//   fail with errc::closed) and hands the closing of the descriptor to the worker, as an
//   Asio socket is not safe to close while its worker starts an operation on it. The
//   same holds for Listener::close(): new connections are refused when it returns.
// Lifetime: destroy a connection or listener before its scheduler. One still open when
//   its scheduler ends is reported on stderr, shut down and marked closed: later
//   operations fail with errc::closed, and destroying it is safe (doc/io.md).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "cogo/asio/io.hpp"
#include "cogo/context.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/error.hpp"
#include "cogo/task.hpp"

namespace cogo::asio {

// cogo::asio's own error codes.
enum class errc {
  eof = 1,     // the peer closed the connection
  closed = 2,  // this side closed it (Go's net.ErrClosed)
  read_timeout = 3,   // a TimeoutStream's per-read deadline passed (timeout_stream.hpp)
  write_timeout = 4,  // ... its per-write deadline
};
const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
// Whether `err` (or an error it wraps) says the peer closed the connection.
bool is_eof(const Error& err) noexcept;
// Whether `err` (or an error it wraps) says the connection or listener was closed here.
bool is_closed(const Error& err) noexcept;

// Connections (Conn) open over the process.
std::int64_t open_sockets() noexcept;

// A value, or the error that stopped it: `auto [n, err] = co_await conn.read(...)`.
template <class T>
struct IoResult {
  T value{};
  Error error;
};

namespace detail {

// What an operation's failure says: the operation, the peer, the context's cause.
// `closed`: close() was called on the socket, so that is why it failed.
Error io_error(const boost::system::error_code& ec, const char* what, const std::string& peer,
               const Context& ctx, const source_location& where, bool closed = false);

// The address of an empty Conn: "".
const std::string& no_address() noexcept;
[[noreturn]] void throw_empty_conn(const char* op);

// A use_task operation whose result is turned into an IoResult by Convert.
template <class Op, class Convert>
class Converted {
 public:
  Converted(Op op, Convert convert) : op_(std::move(op)), convert_(std::move(convert)) {}
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return op_.await_suspend(h);
  }
  auto await_resume() { return convert_(op_.await_resume()); }

 private:
  Op op_;
  Convert convert_;
};
template <class Op, class Convert>
Converted(Op, Convert) -> Converted<Op, Convert>;

// A connection's socket and the texts its errors and waits use (at a stable address),
// shared by the Conn and a close handed to the socket's worker. Listed while it lives,
// for leak checks (cogo/diag/leak_check.hpp) and the figures.
struct ConnState : cogo::detail::ListNode {
  ConnState(boost::asio::ip::tcp::socket s, const source_location& made_at);
  ~ConnState();
  ConnState(const ConnState&) = delete;
  ConnState& operator=(const ConnState&) = delete;
  boost::asio::ip::tcp::socket socket;
  std::atomic<bool> closed{false};  // close() was called: from any thread
  std::mutex fd_mu;  // held to read the descriptor off its worker, and to close it
  source_location site;     // the accept or dial that made it
  std::string peer;         // "127.0.0.1:5123"
  std::string local;
  std::string read_detail;  // "read 127.0.0.1:5123"
  std::string write_detail;
};

}  // namespace detail

class Conn {
 public:
  Conn() noexcept = default;
  // Move-only; destroying a Conn closes it (handed to its worker, as close() does), so
  // that an operation still pending on it ends with errc::closed.
  Conn(Conn&&) noexcept = default;
  Conn& operator=(Conn&& o) noexcept {
    if (this != &o) {
      (void)close();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { (void)close(); }
  // Adopts a connected socket; `where` is reported by leak checks while it is open.
  explicit Conn(boost::asio::ip::tcp::socket socket, source_location where = source_location::current());

  // Whether this holds a connection that close() has not been called on.
  explicit operator bool() const noexcept {
    return s_ != nullptr && !s_->closed.load(std::memory_order_acquire);
  }
  // Empty for an empty (default-constructed or moved-from) Conn.
  const std::string& peer() const noexcept { return s_ != nullptr ? s_->peer : detail::no_address(); }
  const std::string& local() const noexcept { return s_ != nullptr ? s_->local : detail::no_address(); }
  // Throws usage_error on an empty Conn.
  boost::asio::ip::tcp::socket& socket() { return state("socket()").socket; }

  // Reads and writes on an empty Conn throw usage_error: there is no peer to name in an
  // error value, and Go's equivalent (a nil net.Conn) panics.
  //
  // Up to buffer_size(buf) bytes, at least one; an error at the end (is_eof).
  auto read_some(Context ctx, boost::asio::mutable_buffer buf,
                 source_location where = source_location::current()) {
    detail::ConnState& s = state("read_some()");
    auto op = s.socket.async_read_some(buf, use_task(ctx, s.read_detail.c_str(), where));
    return detail::Converted(std::move(op), reader(std::move(ctx), where));
  }
  // Exactly buffer_size(buf) bytes, or an error with the count read so far.
  auto read(Context ctx, boost::asio::mutable_buffer buf,
            source_location where = source_location::current()) {
    detail::ConnState& s = state("read()");
    auto op = boost::asio::async_read(s.socket, buf, use_task(ctx, s.read_detail.c_str(), where));
    return detail::Converted(std::move(op), reader(std::move(ctx), where));
  }
  // Appends to `buf` until it holds `delim`; the value is the length up to and including
  // the first `delim` (bytes after it may follow in `buf`, for the next call).
  auto read_until(Context ctx, std::string& buf, std::string_view delim,
                  source_location where = source_location::current()) {
    detail::ConnState& s = state("read_until()");
    auto op = boost::asio::async_read_until(s.socket, boost::asio::dynamic_buffer(buf),
                                            std::string(delim),
                                            use_task(ctx, s.read_detail.c_str(), where));
    return detail::Converted(std::move(op), reader(std::move(ctx), where));
  }
  // All of buffer_size(buf) bytes, or an error with the count written so far.
  auto write(Context ctx, boost::asio::const_buffer buf,
             source_location where = source_location::current()) {
    detail::ConnState& s = state("write()");
    auto op = boost::asio::async_write(s.socket, buf, use_task(ctx, s.write_detail.c_str(), where));
    return detail::Converted(std::move(op), writer(std::move(ctx), where));
  }

  // Ends this side's sending (the peer reads EOF), or receiving, or both.
  Error shutdown(boost::asio::socket_base::shutdown_type what = boost::asio::socket_base::shutdown_send,
                 source_location where = source_location::current());
  // Closes the socket; operations in flight end with an error. Safe to call twice.
  Error close(source_location where = source_location::current());

 private:
  struct Result {
    Context ctx;
    std::shared_ptr<const detail::ConnState> s;  // alive until the operation has ended
    const char* what;
    source_location where;
    IoResult<std::size_t> operator()(std::tuple<boost::system::error_code, std::size_t> r) const {
      IoResult<std::size_t> out;
      out.value = std::get<1>(r);
      if (const auto& ec = std::get<0>(r)) {
        out.error = detail::io_error(ec, what, s->peer, ctx, where, s->closed.load(std::memory_order_acquire));
      }
      return out;
    }
  };
  Result reader(Context ctx, source_location where) const { return {std::move(ctx), s_, "read from", where}; }
  Result writer(Context ctx, source_location where) const { return {std::move(ctx), s_, "write to", where}; }
  detail::ConnState& state(const char* op) const {
    if (s_ == nullptr) detail::throw_empty_conn(op);
    return *s_;
  }

  std::shared_ptr<detail::ConnState> s_;
};

namespace detail {
// A listener's acceptor, shared by the Listener and a close handed to its worker.
struct ListenerState : cogo::detail::ListNode {
  explicit ListenerState(boost::asio::io_context& io);
  ~ListenerState();
  ListenerState(const ListenerState&) = delete;
  ListenerState& operator=(const ListenerState&) = delete;
  boost::asio::ip::tcp::acceptor acceptor;
  std::atomic<bool> closed{false};
  std::mutex fd_mu;  // as ConnState's
  std::string address;  // "127.0.0.1:40123"
  std::uint16_t port = 0;
};
// At the end of a scheduler whose io_contexts are `contexts`: shuts down in the kernel
// and marks closed every connection and listener still open on one of them (their Asio
// objects stay until their owners destroy them); returns what they were.
std::vector<std::string> orphan_io_objects(const std::vector<const boost::asio::execution_context*>& contexts);
}  // namespace detail

class Listener {
 public:
  Listener() noexcept = default;

  // The next connection, accepted onto the calling worker's io_context.
  Task<IoResult<Conn>> accept(Context ctx, source_location where = source_location::current());
  // "127.0.0.1:40123"; port() alone.
  const std::string& address() const noexcept { return s_ != nullptr ? s_->address : detail::no_address(); }
  std::uint16_t port() const noexcept { return s_ != nullptr ? s_->port : 0; }
  // Stops listening; a pending accept ends with errc::closed. Safe to call twice.
  Error close(source_location where = source_location::current());
  // Whether this holds a listener that close() has not been called on.
  explicit operator bool() const noexcept {
    return s_ != nullptr && !s_->closed.load(std::memory_order_acquire);
  }

 private:
  friend IoResult<Listener> listen(std::string_view address, source_location where);
  std::shared_ptr<detail::ListenerState> s_;
};

// Binds "host:port" (port 0: any free one; host an address, or empty for all) and listens.
IoResult<Listener> listen(std::string_view address, source_location where = source_location::current());

// Resolves "host:port" and connects to the first address that accepts, as Go's Dial does.
Task<IoResult<Conn>> dial(Context ctx, std::string address,
                          source_location where = source_location::current());

}  // namespace cogo::asio

template <>
struct std::is_error_code_enum<cogo::asio::errc> : std::true_type {};
