#include "cogo/error.hpp"

#include <atomic>
#include <cstring>
#include <ostream>
#include <utility>

#include "cogo/detail/error_access.hpp"
#include "cogo/detail/format.hpp"

namespace cogo {
namespace detail {

// The heap part of an Error: message and cause. Immutable once built; shared by copies.
struct ErrorRep {
  mutable std::atomic<std::int32_t> refs{1};
  bool immortal = false;
  std::string message;
  Error cause;
  std::exception_ptr exception;
};

namespace {
void add_ref(const ErrorRep* r) noexcept {
  if (r && !r->immortal) r->refs.fetch_add(1, std::memory_order_relaxed);
}
void drop_ref(const ErrorRep* r) noexcept {
  if (r && !r->immortal && r->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete r;
}
}  // namespace
}  // namespace detail

namespace {

class CogoCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cogo"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::canceled:
        return "context canceled";
      case errc::deadline_exceeded:
        return "context deadline exceeded";
      case errc::unknown:
        return "unknown error";
      case errc::exception:
        return "exception";
    }
    return "cogo error " + std::to_string(ev);
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<errc>(ev)) {
      case errc::canceled:
        return std::make_error_condition(std::errc::operation_canceled);
      case errc::deadline_exceeded:
        return std::make_error_condition(std::errc::timed_out);
      default:
        return {ev, *this};
    }
  }
};

bool is_context_code(const std::error_code& c) noexcept {
  return &c.category() == &error_category() &&
         (c.value() == static_cast<int>(errc::canceled) ||
          c.value() == static_cast<int>(errc::deadline_exceeded));
}

bool same_site(const source_location& a, const source_location& b) noexcept {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

// Sites print as file:line, so a nested error on the same line adds nothing.
bool same_line(const source_location& a, const source_location& b) noexcept {
  return a.line() == b.line() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

const Error& empty_error() noexcept {
  static const Error e;
  return e;
}

}  // namespace

namespace detail {

const ErrorRep* ErrorAccess::immortal_rep(const char* message) {
  auto* r = new ErrorRep;
  r->immortal = true;
  r->message = message;
  return r;
}

Error ErrorAccess::with_rep(std::error_code code, source_location where,
                            const ErrorRep* rep) noexcept {
  Error e(code, where);
  add_ref(rep);
  e.rep_ = rep;
  return e;
}

Error ErrorAccess::with_message(std::error_code code, std::string&& message, Error cause,
                                source_location where) {
  Error e(code, where);
  auto* r = new ErrorRep;
  r->message = std::move(message);
  r->cause = std::move(cause);
  e.rep_ = r;
  return e;
}

}  // namespace detail

const std::error_category& error_category() noexcept {
  static const CogoCategory c;
  return c;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

std::error_condition make_error_condition(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

Error::Error(errc code, source_location where) noexcept
    : code_(make_error_code(code)), where_(where) {}

Error::Error(std::error_code code, source_location where) noexcept : code_(code), where_(where) {}

Error::Error(std::error_code code, std::string_view message, source_location where)
    : code_(code), where_(where) {
  if (!message.empty()) {
    auto* r = new detail::ErrorRep;
    r->message.assign(message);
    rep_ = r;
  }
}

Error::Error(std::string_view message, source_location where)
    : Error(make_error_code(errc::unknown), message, where) {}

Error::Error(std::error_code code, std::string_view message, Error cause, source_location where)
    : code_(code), where_(where) {
  if (!message.empty() || cause) {
    auto* r = new detail::ErrorRep;
    r->message.assign(message);
    r->cause = std::move(cause);
    rep_ = r;
  }
}

Error::Error(std::string_view message, Error cause, source_location where)
    : Error(make_error_code(errc::unknown), message, std::move(cause), where) {}

Error::Error(const Error& o) noexcept : code_(o.code_), where_(o.where_), rep_(o.rep_) {
  detail::add_ref(rep_);
}

Error::Error(Error&& o) noexcept
    : code_(std::exchange(o.code_, std::error_code())),
      where_(std::exchange(o.where_, source_location())),
      rep_(std::exchange(o.rep_, nullptr)) {}

// Self-assignment is safe: the reference is added before the old one is dropped.
Error& Error::operator=(const Error& o) noexcept {  // NOLINT(bugprone-unhandled-self-assignment)
  detail::add_ref(o.rep_);
  detail::drop_ref(rep_);
  code_ = o.code_;
  where_ = o.where_;
  rep_ = o.rep_;
  return *this;
}

Error& Error::operator=(Error&& o) noexcept {
  if (this != &o) {
    detail::drop_ref(rep_);
    code_ = std::exchange(o.code_, std::error_code());
    where_ = std::exchange(o.where_, source_location());
    rep_ = std::exchange(o.rep_, nullptr);
  }
  return *this;
}

Error::~Error() { detail::drop_ref(rep_); }

std::string_view Error::message() const noexcept {
  return rep_ ? std::string_view(rep_->message) : std::string_view();
}

const Error& Error::cause() const noexcept { return rep_ ? rep_->cause : empty_error(); }

std::exception_ptr Error::exception() const noexcept { return rep_ ? rep_->exception : nullptr; }

Error Error::from_exception(std::exception_ptr e, source_location where) {
  std::string what = "unknown exception";
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  Error err(make_error_code(errc::exception), where);
  auto* r = new detail::ErrorRep;
  r->message = std::move(what);
  r->exception = std::move(e);
  err.rep_ = r;
  return err;
}

bool Error::is(errc code) const noexcept { return is(make_error_code(code)); }

bool Error::is(std::error_code code) const noexcept {
  for (const Error* e = this; *e; e = &e->cause()) {
    if (e->code_ == code) return true;
  }
  return false;
}

bool Error::is(std::errc condition) const noexcept {
  for (const Error* e = this; *e; e = &e->cause()) {
    if (e->code_ == condition) return true;
  }
  return false;
}

bool Error::is(const Error& target) const noexcept {
  for (const Error* e = this; *e; e = &e->cause()) {
    if (*e == target) return true;
  }
  return false;
}

bool Error::is_timeout() const noexcept {
  return code_ == errc::deadline_exceeded || code_ == std::errc::timed_out;
}

bool operator==(const Error& a, const Error& b) noexcept {
  if (a.code_ != b.code_ || !same_site(a.where_, b.where_)) return false;
  if (a.rep_ == b.rep_) return true;
  return a.message() == b.message() && a.cause() == b.cause();
}

void Error::write(std::string& out, const source_location* outer) const {
  if (!code_) {
    out += "<nil>";
    return;
  }
  const std::string_view msg = message();
  const bool context_code = is_context_code(code_);
  if (context_code && !msg.empty() && cause() && cause().code_ == code_) {
    // An operation that a context ended, wrapping the context's own error or cause
    // (cogo::asio's "read from 10.0.0.1:80 canceled"): what ended, then why.
    out += msg;
    out += ": ";
    cause().write(out, outer);
    return;
  }
  if (context_code || msg.empty()) {
    out += code_.message();
  } else if (code_ == errc::unknown) {
    out += msg;
  } else {
    out += msg;
    out += ": ";
    out += code_.message();
  }
  if (has_site() && (outer == nullptr || !same_line(*outer, where_))) {
    out += " at ";
    detail::append_site(out, where_);
  }
  if (context_code && !msg.empty()) {
    out += " (";
    out += msg;
    out += ')';
  }
  if (const Error& c = cause(); c) {
    out += " (";
    c.write(out, has_site() ? &where_ : outer);
    out += ')';
  }
}

std::string Error::to_string() const {
  std::string out;
  write(out);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.to_string(); }

}  // namespace cogo
