// TCP connections and listeners, and the errors they report.
#include "cogo/asio/tcp.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <charconv>
#include <string>

namespace cogo::asio {

namespace {

class AsioCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cogo.asio"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::eof:
        return "peer closed the connection";
      case errc::closed:
        return "use of closed network connection";
    }
    return "cogo.asio error " + std::to_string(ev);
  }
};

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  const auto a = e.address();
  std::string out = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  out += ':';
  out += std::to_string(e.port());
  return out;
}

std::string endpoint_or(const boost::asio::ip::tcp::socket& s, bool remote) {
  boost::system::error_code ec;
  const auto e = remote ? s.remote_endpoint(ec) : s.local_endpoint(ec);
  return ec ? std::string("?") : endpoint_text(e);
}

// "host:port", "[v6]:port" or ":port".
bool split_address(std::string_view address, std::string& host, std::string& port) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  host.assign(h);
  port.assign(address.substr(colon + 1));
  return !port.empty();
}

std::atomic<std::int64_t> g_open_sockets{0};

Error system_error(const boost::system::error_code& ec, std::string message, const source_location& where) {
  return Error(static_cast<std::error_code>(ec), message, where);
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const AsioCategory c;
  return c;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

bool is_eof(const Error& err) noexcept { return err.is(make_error_code(errc::eof)); }

bool is_closed(const Error& err) noexcept { return err.is(make_error_code(errc::closed)); }

std::int64_t open_sockets() noexcept { return g_open_sockets.load(std::memory_order_relaxed); }

namespace detail {

const std::string& no_address() noexcept {
  static const std::string empty;
  return empty;
}

void throw_empty_conn(const char* op) {
  throw usage_error(std::string("cogo::asio::Conn::") + op + " on an empty Conn (default-constructed or moved from)");
}

Error io_error(const boost::system::error_code& ec, const char* what, const std::string& peer,
               const Context& ctx, const source_location& where, bool closed) {
  std::string message = what;
  message += ' ';
  message += peer;
  if (ec == boost::asio::error::operation_aborted && ctx.is_done()) {
    // Ended by the context: its code, and why.
    const Error reason = cogo::cause(ctx);
    message += " canceled";
    return Error(ctx.err().code(), message, reason.code() == ctx.err().code() ? reason : ctx.err(),
                 where);
  }
  if (ec == boost::asio::error::eof) return Error(make_error_code(errc::eof), message, where);
  // Closed before the operation started (EBADF) or while it was pending (aborted).
  if (ec == boost::asio::error::bad_descriptor || (closed && ec == boost::asio::error::operation_aborted)) {
    return Error(make_error_code(errc::closed), message, where);
  }
  return system_error(ec, std::move(message), where);
}

ConnState::ConnState(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {
  peer = endpoint_or(socket, true);
  local = endpoint_or(socket, false);
  read_detail = "read " + peer;
  write_detail = "write " + peer;
  g_open_sockets.fetch_add(1, std::memory_order_relaxed);
}

ConnState::~ConnState() { g_open_sockets.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace detail

// ---------------------------------------------------------------- Conn

Conn::Conn(boost::asio::ip::tcp::socket socket)
    : s_(std::make_unique<detail::ConnState>(std::move(socket))) {
  boost::system::error_code ignored;
  s_->socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
}

Error Conn::shutdown(boost::asio::socket_base::shutdown_type what, source_location where) {
  if (s_ == nullptr) return Error("shutdown of an empty Conn", where);
  boost::system::error_code ec;
  s_->socket.shutdown(what, ec);
  return ec ? system_error(ec, "shutdown of " + s_->peer, where) : Error();
}

Error Conn::close(source_location where) {
  if (s_ == nullptr || !s_->socket.is_open()) return Error();
  boost::system::error_code ec;
  s_->socket.close(ec);
  return ec ? system_error(ec, "close of " + s_->peer, where) : Error();
}

// ---------------------------------------------------------------- Listener

std::uint16_t Listener::port() const noexcept {
  if (acceptor_ == nullptr) return 0;
  boost::system::error_code ec;
  const auto e = acceptor_->local_endpoint(ec);
  return ec ? 0 : e.port();
}

Error Listener::close(source_location where) {
  if (acceptor_ == nullptr || !acceptor_->is_open()) return Error();
  boost::system::error_code ec;
  acceptor_->close(ec);
  return ec ? system_error(ec, "close of listener " + address_, where) : Error();
}

Task<IoResult<Conn>> Listener::accept(Context ctx, source_location where) {
  IoResult<Conn> out;
  if (acceptor_ == nullptr) {
    out.error = Error("accept on an empty Listener", where);
    co_return out;
  }
  const std::string detail = "accept " + address_;
  auto [ec, socket] = co_await acceptor_->async_accept(io_context_here(), use_task(ctx, detail.c_str(), where));
  if (ec) {
    const bool closed = ec == boost::asio::error::operation_aborted && !acceptor_->is_open();
    out.error = detail::io_error(ec, "accept on", address_, ctx, where, closed);
  } else {
    out.value = Conn(std::move(socket));
  }
  co_return out;
}

IoResult<Listener> listen(std::string_view address, source_location where) {
  IoResult<Listener> out;
  std::string host, port;
  unsigned short number = 0;
  if (!split_address(address, host, port) ||
      std::from_chars(port.data(), port.data() + port.size(), number).ec != std::errc() ) {
    out.error = Error(std::make_error_code(std::errc::invalid_argument),
                      "listen on \"" + std::string(address) + "\": not host:port", where);
    return out;
  }
  boost::system::error_code ec;
  const auto ip = host.empty() ? boost::asio::ip::address_v6::any() : boost::asio::ip::make_address(host, ec);
  if (ec) {
    out.error = system_error(ec, "listen on \"" + std::string(address) + "\"", where);
    return out;
  }
  auto acceptor = std::make_unique<boost::asio::ip::tcp::acceptor>(io_context_here());
  const boost::asio::ip::tcp::endpoint endpoint(ip, number);
  if (!acceptor->open(endpoint.protocol(), ec) &&
      !acceptor->set_option(boost::asio::socket_base::reuse_address(true), ec) &&
      !acceptor->bind(endpoint, ec) && !acceptor->listen(boost::asio::socket_base::max_listen_connections, ec)) {
    out.value.acceptor_ = std::move(acceptor);
    out.value.address_ = endpoint_text(out.value.acceptor_->local_endpoint(ec));
    return out;
  }
  out.error = system_error(ec, "listen on " + std::string(address), where);
  return out;
}

Task<IoResult<Conn>> dial(Context ctx, std::string address, source_location where) {
  IoResult<Conn> out;
  std::string host, port;
  if (!split_address(address, host, port)) {
    out.error = Error(std::make_error_code(std::errc::invalid_argument),
                      "dial \"" + address + "\": not host:port", where);
    co_return out;
  }
  boost::asio::ip::tcp::resolver::results_type endpoints;
  boost::system::error_code pec;
  const auto ip = boost::asio::ip::make_address(host, pec);
  unsigned short number = 0;
  if (!pec && std::from_chars(port.data(), port.data() + port.size(), number).ec == std::errc()) {
    // An address already: no resolver (whose lookups run on a thread of Asio's own).
    endpoints = boost::asio::ip::tcp::resolver::results_type::create(
        boost::asio::ip::tcp::endpoint(ip, number), host, port);
  } else {
    boost::asio::ip::tcp::resolver resolver(io_context_here());
    const std::string resolve_detail = "resolve " + address;
    auto [rec, found] =
        co_await resolver.async_resolve(host, port, use_task(ctx, resolve_detail.c_str(), where));
    if (rec) {
      out.error = detail::io_error(rec, "resolve", address, ctx, where);
      co_return out;
    }
    endpoints = std::move(found);
  }
  boost::asio::ip::tcp::socket socket(io_context_here());
  const std::string connect_detail = "connect " + address;
  auto [cec, endpoint] =
      co_await boost::asio::async_connect(socket, endpoints, use_task(ctx, connect_detail.c_str(), where));
  (void)endpoint;
  if (cec) {
    out.error = detail::io_error(cec, "connect to", address, ctx, where);
    co_return out;
  }
  out.value = Conn(std::move(socket));
  co_return out;
}

}  // namespace cogo::asio
