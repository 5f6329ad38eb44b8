// cogo::Error
//
// A small copyable value describing why an operation failed, or nothing (an empty Error
// means success). It holds a std::error_code, an optional message, the source location
// where it was raised, and optionally the Error it wraps (its cause), so that a chain of
// causes can be walked with is().
//
// The category "cogo" has the codes errc::canceled ("context canceled") and
// errc::deadline_exceeded ("context deadline exceeded"); the latter is a timeout. They
// compare equal to std::errc::operation_canceled and std::errc::timed_out respectively.
//
// Printing is one line: the message or the code's text, " at file:line" when the error
// knows where it was raised (unless the enclosing error was raised at the same line), a
// parenthesised note, then the cause in parentheses:
//   context canceled at src/http/server.cpp:212 (client disconnected at ...)
//   context deadline exceeded (deadline set at src/x.cpp:10, 250ms)
//
// Thread safety: an Error is immutable; copies may be used from any thread.
// Complexity: copying is O(1) (at most one atomic increment); is() is O(chain length).
// Example:
//   cogo::Error e{std::make_error_code(std::errc::connection_reset), "client disconnected"};
//   if (e.is(std::errc::connection_reset)) retry();
#pragma once

#include <exception>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "cogo/detail/config.hpp"

namespace cogo {

enum class errc : int {
  canceled = 1,
  deadline_exceeded = 2,
  unknown = 3,    // an error described only by its message
  exception = 4,  // an exception escaped a task; the Error keeps it (Error::exception())
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
std::error_condition make_error_condition(errc e) noexcept;

}  // namespace cogo

template <>
struct std::is_error_code_enum<cogo::errc> : std::true_type {};

namespace cogo {

namespace detail {
struct ErrorRep;
struct ErrorAccess;
}

class Error {
 public:
  // No error.
  Error() noexcept = default;

  // An error with a code, raised where the constructor is called.
  Error(errc code, source_location where = source_location::current()) noexcept;  // NOLINT
  Error(std::error_code code, source_location where = source_location::current()) noexcept;  // NOLINT

  // An error with a code and a message.
  Error(std::error_code code, std::string_view message,
        source_location where = source_location::current());

  // An error with only a message (code errc::unknown).
  explicit Error(std::string_view message, source_location where = source_location::current());
  explicit Error(const char* message, source_location where = source_location::current())
      : Error(std::string_view(message), where) {}

  // An error made from an exception: code errc::exception, the exception's what() as its
  // message, `where` the site the failing work was started at. The exception is kept.
  static Error from_exception(std::exception_ptr e, source_location where);

  // An error that wraps `cause`. An empty message keeps the code's own text.
  Error(std::error_code code, std::string_view message, Error cause,
        source_location where = source_location::current());
  Error(std::string_view message, Error cause, source_location where = source_location::current());

  Error(const Error& o) noexcept;
  Error(Error&& o) noexcept;
  Error& operator=(const Error& o) noexcept;
  Error& operator=(Error&& o) noexcept;
  ~Error();

  // True if this is an error.
  explicit operator bool() const noexcept { return static_cast<bool>(code_); }

  const std::error_code& code() const noexcept { return code_; }
  std::string_view message() const noexcept;
  // Where the error was raised; an empty file name when unknown.
  const source_location& where() const noexcept { return where_; }
  bool has_site() const noexcept { return where_.line() != 0; }
  // The wrapped error, or an empty Error.
  const Error& cause() const noexcept;
  // The exception this error was made from, if any (rethrow it with std::rethrow_exception).
  std::exception_ptr exception() const noexcept;

  // True if this error or any error in its cause chain has the code, or is equal to `e`.
  bool is(errc code) const noexcept;
  bool is(std::error_code code) const noexcept;
  bool is(std::errc condition) const noexcept;
  bool is(const Error& e) const noexcept;

  // True for errc::deadline_exceeded and any code equivalent to std::errc::timed_out.
  bool is_timeout() const noexcept;

  // The one-line form described above.
  std::string to_string() const;
  friend std::ostream& operator<<(std::ostream& os, const Error& e);

  // Same code, message, raising site and cause.
  friend bool operator==(const Error& a, const Error& b) noexcept;
  friend bool operator==(const Error& a, errc code) noexcept { return a.code_ == code; }

 private:
  friend struct detail::ErrorAccess;
  // `outer` is the site already printed by the enclosing error, not repeated.
  void write(std::string& out, const source_location* outer = nullptr) const;

  std::error_code code_;
  source_location where_;
  const detail::ErrorRep* rep_ = nullptr;
};

// usage_error
//
// Thrown on misuse that cogo detects and refuses, such as stopping a Timer that was never
// started or a WaitGroup counter going negative. The object involved is left unchanged.
class usage_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace cogo
