// TimeoutStream
//
// A connection whose every read and every write has its own deadline, on top of the
// context's: an idle-read timeout, a write timeout. Each read_some, read or write call
// must finish within the timeout set for its direction, counted from the call; the
// context's own cancel and deadline still apply, and whichever comes first ends the
// operation. The error says which:
//   - the per-operation timeout (Go's os.ErrDeadlineExceeded, "i/o timeout", rather
//     than the context's error): code asio::errc::read_timeout or write_timeout, which
//     is_timeout() and is(std::errc::timed_out) accept, naming the operation, the
//     timeout and the line that set it: "read from 127.0.0.1:5123: read timeout at
//     client.cpp:40 (30ms, set at client.cpp:31)";
//   - the context: exactly what the same operation on the Conn reports ("... canceled:
//     context deadline exceeded (deadline set at handler.cpp:40, 2s)"), code canceled
//     or deadline_exceeded.
//
//   cogo::asio::TimeoutStream s(std::move(conn));
//   s.set_read_timeout(100ms);                     // 0: none (the default)
//   auto [n, err] = co_await s.read_some(ctx, boost::asio::buffer(buf));
//
// Cost: an operation that can complete at once (bytes already received, room in the
// send buffer) completes with one non-blocking system call and arms nothing, when it is
// started on the connection's own worker (elsewhere, the descriptor may be closed under
// it by a close() handed to the owner, so it is not touched: the operation is handed to
// the owner and waits with its timeout like any other). Only an
// operation that has to wait derives a context with the timeout (one allocation and one
// timer on the scheduler's timer service, cancelled when the operation ends): no thread,
// no task. When the context's deadline is earlier than the timeout, the derived context
// arms no timer of its own. deadlines_armed() counts the operations that waited with a
// timeout set.
//
// Thread safety: as Conn: one read and one write at a time; set_*_timeout() between
//   operations of that direction, from the task that issues them. close() from anywhere.
// Cancellation: the context's and the per-operation deadline, as above; an operation
//   that completes as either passes reports its result.
// Ownership: owns the Conn; conn() lends it (for shutdown(), peer(), the socket).
// Lifetime: destroy before the scheduler, as a Conn.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "cogo/asio/tcp.hpp"
#include "cogo/context.hpp"
#include "cogo/detail/duration.hpp"
#include "cogo/error.hpp"
#include "cogo/task.hpp"

namespace cogo::asio {

class TimeoutStream {
 public:
  TimeoutStream() noexcept = default;
  explicit TimeoutStream(Conn conn) noexcept : conn_(std::move(conn)) {}

  // Each later read (read_some, read) must end within `d` of its call; 0 or less: no
  // per-read deadline. `where` is reported when it fires.
  template <class Rep, class Period>
  void set_read_timeout(std::chrono::duration<Rep, Period> d,
                        source_location where = source_location::current()) {
    read_ = make_timeout(cogo::detail::saturating_ns(d), errc::read_timeout, where);
  }
  // The same for each later write.
  template <class Rep, class Period>
  void set_write_timeout(std::chrono::duration<Rep, Period> d,
                         source_location where = source_location::current()) {
    write_ = make_timeout(cogo::detail::saturating_ns(d), errc::write_timeout, where);
  }

  // As Conn's, with the per-operation deadline.
  Task<IoResult<std::size_t>> read_some(Context ctx, boost::asio::mutable_buffer buf,
                                        source_location where = source_location::current());
  Task<IoResult<std::size_t>> read(Context ctx, boost::asio::mutable_buffer buf,
                                   source_location where = source_location::current());
  Task<IoResult<std::size_t>> write(Context ctx, boost::asio::const_buffer buf,
                                    source_location where = source_location::current());

  Conn& conn() noexcept { return conn_; }
  Error close(source_location where = source_location::current()) { return conn_.close(where); }

  // Operations so far that had to wait with a per-operation timeout, and armed it.
  std::uint64_t deadlines_armed() const noexcept { return armed_; }

 private:
  struct Timeout {
    std::int64_t ns = 0;  // 0: none
    errc which = errc::read_timeout;
    source_location site;  // where it was set
    std::string note;      // "30ms, set at client.cpp:31"
  };
  static Timeout make_timeout(std::int64_t ns, errc which, const source_location& where);
  // The context an operation that waits runs on: ctx with the timeout t.
  Cancelable<CancelFunc> derive(const Context& ctx, const Timeout& t);
  // Turns a failure that t's deadline caused (op_ctx passed it, ctx is not done) into
  // t's error.
  void blame(IoResult<std::size_t>& r, const Timeout& t, const Context& ctx, const Context& op_ctx,
             const char* what, const source_location& where) const;

  Conn conn_;
  Timeout read_;
  Timeout write_;
  std::uint64_t armed_ = 0;
};

}  // namespace cogo::asio
