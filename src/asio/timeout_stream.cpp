// TimeoutStream: a non-blocking attempt first, a deadline only for operations that wait.
#include "cogo/asio/timeout_stream.hpp"

#include <boost/asio/query.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "cogo/detail/format.hpp"

namespace cogo::asio {

namespace {

enum class Attempt { done, wait, failed };

// Whether the caller may touch `conn`'s descriptor now: it is open and this is its
// worker (where Asio starts its operations, so no operation of ours overlaps one of
// Asio's on another thread).
bool may_try(Conn& conn, const Context& ctx) {
  if (!conn || ctx.is_done()) return false;
  auto ex = conn.socket().get_executor();
  return detail::is_worker_io_context(boost::asio::query(ex, boost::asio::execution::context));
}

// One non-blocking recv or send, the way Asio's speculative attempt makes it. `n` gets
// the bytes moved; `ec` the error, if it failed.
Attempt try_recv(int fd, void* p, std::size_t size, std::size_t& n, boost::system::error_code& ec) {
  for (;;) {
    const ssize_t k = ::recv(fd, p, size, MSG_DONTWAIT);
    if (k > 0) {
      n = static_cast<std::size_t>(k);
      return Attempt::done;
    }
    if (k == 0) {
      ec = boost::asio::error::eof;
      return Attempt::failed;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Attempt::wait;
    ec.assign(errno, boost::system::system_category());
    return Attempt::failed;
  }
}
Attempt try_send(int fd, const void* p, std::size_t size, std::size_t& n, boost::system::error_code& ec) {
  for (;;) {
    const ssize_t k = ::send(fd, p, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k >= 0) {
      n = static_cast<std::size_t>(k);
      return Attempt::done;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Attempt::wait;
    ec.assign(errno, boost::system::system_category());
    return Attempt::failed;
  }
}

}  // namespace

TimeoutStream::Timeout TimeoutStream::make_timeout(std::int64_t ns, errc which, const source_location& where) {
  Timeout t;
  if (ns <= 0) return t;
  t.ns = ns;
  t.which = which;
  t.site = where;
  cogo::detail::append_go_duration(t.note, ns);
  t.note += ", set at ";
  cogo::detail::append_site(t.note, where);
  return t;
}

Cancelable<CancelFunc> TimeoutStream::derive(const Context& ctx, const Timeout& t) {
  ++armed_;
  return cogo::with_timeout(ctx, std::chrono::nanoseconds(t.ns), t.site);
}

void TimeoutStream::blame(IoResult<std::size_t>& r, const Timeout& t, const Context& ctx, const Context& op_ctx,
                          const char* what, const source_location& where) const {
  if (!r.error.is(cogo::errc::deadline_exceeded) || !op_ctx.is_done() || ctx.is_done()) return;
  std::string message = what;
  message += ' ';
  message += conn_.peer();
  // The note has no site of its own (line 0): the outer error prints the operation's.
  r.error = Error(make_error_code(t.which), message, Error(t.note, source_location()), where);
}

Task<IoResult<std::size_t>> TimeoutStream::read_some(Context ctx, boost::asio::mutable_buffer buf,
                                                     source_location where) {
  IoResult<std::size_t> out;
  if (buf.size() > 0 && may_try(conn_, ctx)) {
    boost::system::error_code ec;
    const Attempt a = try_recv(conn_.socket().native_handle(), buf.data(), buf.size(), out.value, ec);
    if (a == Attempt::done) co_return out;
    if (a == Attempt::failed) {
      out.error = detail::io_error(ec, "read from", conn_.peer(), ctx, where);
      co_return out;
    }
  }
  if (read_.ns == 0) co_return co_await conn_.read_some(std::move(ctx), buf, where);
  auto [op_ctx, cancel] = derive(ctx, read_);
  out = co_await conn_.read_some(op_ctx, buf, where);
  cancel();  // the timer goes now, not when it would have fired
  blame(out, read_, ctx, op_ctx, "read from", where);
  co_return out;
}

Task<IoResult<std::size_t>> TimeoutStream::read(Context ctx, boost::asio::mutable_buffer buf, source_location where) {
  IoResult<std::size_t> out;
  if (buf.size() > 0 && may_try(conn_, ctx)) {
    const int fd = conn_.socket().native_handle();
    while (out.value < buf.size()) {
      boost::system::error_code ec;
      std::size_t n = 0;
      const Attempt a = try_recv(fd, static_cast<char*>(buf.data()) + out.value, buf.size() - out.value, n, ec);
      if (a == Attempt::wait) break;
      if (a == Attempt::failed) {
        out.error = detail::io_error(ec, "read from", conn_.peer(), ctx, where);
        co_return out;
      }
      out.value += n;
    }
    if (out.value == buf.size()) co_return out;
  }
  const std::size_t before = out.value;
  const boost::asio::mutable_buffer rest = buf + before;
  if (read_.ns == 0) {
    out = co_await conn_.read(std::move(ctx), rest, where);
  } else {
    auto [op_ctx, cancel] = derive(ctx, read_);
    out = co_await conn_.read(op_ctx, rest, where);
    cancel();
    blame(out, read_, ctx, op_ctx, "read from", where);
  }
  out.value += before;
  co_return out;
}

Task<IoResult<std::size_t>> TimeoutStream::write(Context ctx, boost::asio::const_buffer buf, source_location where) {
  IoResult<std::size_t> out;
  if (buf.size() > 0 && may_try(conn_, ctx)) {
    const int fd = conn_.socket().native_handle();
    while (out.value < buf.size()) {
      boost::system::error_code ec;
      std::size_t n = 0;
      const Attempt a =
          try_send(fd, static_cast<const char*>(buf.data()) + out.value, buf.size() - out.value, n, ec);
      if (a == Attempt::wait) break;
      if (a == Attempt::failed) {
        out.error = detail::io_error(ec, "write to", conn_.peer(), ctx, where);
        co_return out;
      }
      out.value += n;
    }
    if (out.value == buf.size()) co_return out;
  }
  const std::size_t before = out.value;
  const boost::asio::const_buffer rest = buf + before;
  if (write_.ns == 0) {
    out = co_await conn_.write(std::move(ctx), rest, where);
  } else {
    auto [op_ctx, cancel] = derive(ctx, write_);
    out = co_await conn_.write(op_ctx, rest, where);
    cancel();
    blame(out, write_, ctx, op_ctx, "write to", where);
  }
  out.value += before;
  co_return out;
}

}  // namespace cogo::asio
