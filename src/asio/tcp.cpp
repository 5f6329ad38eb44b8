// TCP connections and listeners, and the errors they report.
#include "cogo/asio/tcp.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cogo/chan.hpp"
#include "cogo/detail/format.hpp"
#include "cogo/detail/resources.hpp"
#include "cogo/select.hpp"

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
      case errc::read_timeout:
        return "read timeout";
      case errc::write_timeout:
        return "write timeout";
    }
    return "cogo.asio error " + std::to_string(ev);
  }
  // The per-operation deadlines are timeouts to std::errc too: Error::is_timeout().
  std::error_condition default_error_condition(int ev) const noexcept override {
    const auto e = static_cast<errc>(ev);
    if (e == errc::read_timeout || e == errc::write_timeout) return std::errc::timed_out;
    return {ev, *this};
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

// A name lookup of dial(), shared by the dialling task and the thread that looks up.
struct Lookup {
  std::string host, port;
  boost::system::error_code ec;
  boost::asio::ip::tcp::resolver::results_type found;
  Chan<bool> done = make_chan<bool>(1);  // sent once the thread has filled the rest
};

// Looks the name up on a thread of its own, detached, which tells `lookup` when done.
// Not on the worker io_context's resolver: that runs one lookup at a time, so a lookup
// left behind by a cancelled dial would hold up every later dial on that worker, and
// the io_context's destruction would wait for it. False if no thread could be made.
bool start_lookup(const std::shared_ptr<Lookup>& lookup) {
  try {
    std::thread([lookup] {
      boost::asio::io_context io(1);
      boost::asio::ip::tcp::resolver resolver(io);
      lookup->found = resolver.resolve(lookup->host, lookup->port, lookup->ec);
      (void)lookup->done.try_send(true);
    }).detach();
    return true;
  } catch (...) {
    return false;
  }
}

std::atomic<std::int64_t> g_open_sockets{0};

// Open connections, for leak reports.
struct OpenList {
  std::mutex mu;
  cogo::detail::List conns;
  cogo::detail::List listeners;
};
OpenList& open_list() {
  static auto* l = new OpenList;  // never destroyed: sockets may close during exit
  return *l;
}

void each_open(void (*fn)(const void* id, const source_location& site, const std::string& description,
                          void* arg),
               void* arg) {
  OpenList& l = open_list();
  std::lock_guard<std::mutex> g(l.mu);
  l.conns.for_each([&](cogo::detail::ListNode* n) {
    auto* c = static_cast<detail::ConnState*>(n);
    fn(c, c->site, c->local + " -> " + c->peer, arg);
  });
}

std::int64_t count_open() noexcept { return g_open_sockets.load(std::memory_order_relaxed); }
std::int64_t count_pending_ops() noexcept { return pending_operations(); }

const cogo::detail::ResourceKind kSockets{"io_sockets_open", "TCP connections open (cogo::asio).",
                                          "socket", &count_open, &each_open};
const cogo::detail::ResourceKind kOperations{
    "io_operations_pending", "I/O operations awaited and not completed (cogo::asio).",
    "I/O operation", &count_pending_ops, nullptr};

Error system_error(const boost::system::error_code& ec, std::string message, const source_location& where) {
  return Error(static_cast<std::error_code>(ec), message, where);
}

// Whether closing `object` must be handed to its worker, and if so hands it over: an
// Asio socket is not safe to close on one thread while its worker starts an operation on
// it (an operation awaited from another worker starts on the owner, posted). Returns
// false when the caller is on the owner's worker and may close it at once.
//
// Handed over, the close still takes effect before this returns, as a close does: the
// socket is shut down here, in the kernel (which Asio does not track, so nothing races):
// the peer reads EOF, a listener refuses new connections, operations in flight wake and
// fail, and operations started later fail (reported as errc::closed, as the closed flag
// is set). The owner then closes the descriptor; `keep` holds the object until then.
// A socket set to reset on close (SO_LINGER with a zero timeout) is not shut down here,
// which would send FIN before the RST: its reset goes out when the owner closes it.
//
// The descriptor is read and closed under the state's fd_mu, which shutdown() from any
// thread also holds: a close on the owner never changes it under a reader.
template <class IoObject, class State>
bool close_elsewhere(IoObject& object, const std::shared_ptr<State>& keep) {
  auto ex = object.get_executor();
  if (detail::is_worker_io_context(boost::asio::query(ex, boost::asio::execution::context))) return false;
  {
    std::lock_guard<std::mutex> g(keep->fd_mu);
    boost::system::error_code ec;
    boost::asio::socket_base::linger linger;
    object.get_option(linger, ec);
    if (ec || !linger.enabled() || linger.timeout() != 0) ::shutdown(object.native_handle(), SHUT_RDWR);
  }
  try {
    boost::asio::post(ex, [keep, &object] {
      std::lock_guard<std::mutex> g(keep->fd_mu);
      boost::system::error_code ignored;
      object.close(ignored);
    });
    return true;
  } catch (...) {
    return false;  // out of memory: closed here, as before
  }
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
  // Closed here, before the operation started or while it was pending: whatever the
  // socket said of it (EBADF, an abort, or the EOF or EPIPE of a socket shut down by a
  // close handed to its worker).
  if (closed || ec == boost::asio::error::bad_descriptor) return Error(make_error_code(errc::closed), message, where);
  if (ec == boost::asio::error::eof) return Error(make_error_code(errc::eof), message, where);
  return system_error(ec, std::move(message), where);
}

ConnState::ConnState(boost::asio::ip::tcp::socket s, const source_location& made_at)
    : socket(std::move(s)), site(made_at) {
  peer = endpoint_or(socket, true);
  local = endpoint_or(socket, false);
  read_detail = "read " + peer;
  write_detail = "write " + peer;
  static const bool registered = [] {
    cogo::detail::register_resource_kind(&kSockets);
    cogo::detail::register_resource_kind(&kOperations);
    return true;
  }();
  (void)registered;
  OpenList& l = open_list();
  std::lock_guard<std::mutex> g(l.mu);
  l.conns.push_back(this);
  g_open_sockets.fetch_add(1, std::memory_order_relaxed);
}

ConnState::~ConnState() {
  OpenList& l = open_list();
  std::lock_guard<std::mutex> g(l.mu);
  cogo::detail::List::remove(this);
  g_open_sockets.fetch_sub(1, std::memory_order_relaxed);
}

ListenerState::ListenerState(boost::asio::io_context& io) : acceptor(io) {
  OpenList& l = open_list();
  std::lock_guard<std::mutex> g(l.mu);
  l.listeners.push_back(this);
}

ListenerState::~ListenerState() {
  OpenList& l = open_list();
  std::lock_guard<std::mutex> g(l.mu);
  cogo::detail::List::remove(this);
}

std::vector<std::string> orphan_io_objects(const std::vector<const boost::asio::execution_context*>& contexts) {
  auto ours = [&](auto& object) {
    auto& owner = boost::asio::query(object.get_executor(), boost::asio::execution::context);
    return std::find(contexts.begin(), contexts.end(), &owner) != contexts.end();
  };
  std::vector<std::string> out;
  OpenList& l = open_list();
  std::lock_guard<std::mutex> g(l.mu);
  l.conns.for_each([&](cogo::detail::ListNode* n) {
    auto* c = static_cast<ConnState*>(n);
    if (!ours(c->socket)) return;
    // In the kernel only: the Asio object stays as it is until its owner destroys it.
    if (!c->closed.exchange(true, std::memory_order_acq_rel)) {
      std::lock_guard<std::mutex> fd(c->fd_mu);
      if (c->socket.is_open()) ::shutdown(c->socket.native_handle(), SHUT_RDWR);
    }
    std::string text = "connection " + c->local + " -> " + c->peer + " made at ";
    cogo::detail::append_site(text, c->site);
    out.push_back(std::move(text));
  });
  l.listeners.for_each([&](cogo::detail::ListNode* n) {
    auto* s = static_cast<ListenerState*>(n);
    if (!ours(s->acceptor)) return;
    if (!s->closed.exchange(true, std::memory_order_acq_rel)) {
      std::lock_guard<std::mutex> fd(s->fd_mu);
      if (s->acceptor.is_open()) ::shutdown(s->acceptor.native_handle(), SHUT_RDWR);
    }
    out.push_back("listener on " + s->address);
  });
  return out;
}

}  // namespace detail

// ---------------------------------------------------------------- Conn

Conn::Conn(boost::asio::ip::tcp::socket socket, source_location where)
    : s_(std::make_shared<detail::ConnState>(std::move(socket), where)) {
  boost::system::error_code ignored;
  s_->socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
}

Error Conn::shutdown(boost::asio::socket_base::shutdown_type what, source_location where) {
  if (s_ == nullptr) return Error("shutdown of an empty Conn", where);
  // Closed (perhaps by a close still on its way to the socket's worker): not touched.
  std::unique_lock<std::mutex> g(s_->fd_mu);  // the descriptor stays while it is read
  if (s_->closed.load(std::memory_order_acquire)) {
    g.unlock();
    return Error(make_error_code(errc::closed), "shutdown of " + s_->peer, where);
  }
  boost::system::error_code ec;
  s_->socket.shutdown(what, ec);
  g.unlock();
  return ec ? system_error(ec, "shutdown of " + s_->peer, where) : Error();
}

Error Conn::close(source_location where) {
  if (s_ == nullptr || s_->closed.exchange(true, std::memory_order_acq_rel)) return Error();
  if (close_elsewhere(s_->socket, s_)) return Error();
  boost::system::error_code ec;
  {
    std::lock_guard<std::mutex> g(s_->fd_mu);
    s_->socket.close(ec);
  }
  return ec ? system_error(ec, "close of " + s_->peer, where) : Error();
}

// ---------------------------------------------------------------- Listener

Error Listener::close(source_location where) {
  if (s_ == nullptr || s_->closed.exchange(true, std::memory_order_acq_rel)) return Error();
  if (close_elsewhere(s_->acceptor, s_)) return Error();
  boost::system::error_code ec;
  {
    std::lock_guard<std::mutex> g(s_->fd_mu);
    s_->acceptor.close(ec);
  }
  return ec ? system_error(ec, "close of listener " + s_->address, where) : Error();
}

Task<IoResult<Conn>> Listener::accept(Context ctx, source_location where) {
  IoResult<Conn> out;
  if (s_ == nullptr) {
    out.error = Error("accept on an empty Listener", where);
    co_return out;
  }
  const std::shared_ptr<detail::ListenerState> s = s_;  // alive across the wait
  if (s->closed.load(std::memory_order_acquire)) {
    // Closed (here, or by the end of its scheduler): nothing to start.
    out.error = detail::io_error(boost::asio::error::operation_aborted, "accept on", s->address, ctx, where, true);
    co_return out;
  }
  if (ctx.is_done()) {
    // Not started: an accept would take a waiting connection at once, on a done context.
    out.error = detail::io_error(boost::asio::error::operation_aborted, "accept on", s->address, ctx, where);
    co_return out;
  }
  const std::string detail = "accept " + s->address;
  auto [ec, socket] = co_await s->acceptor.async_accept(io_context_here(), use_task(ctx, detail.c_str(), where));
  if (ec) {
    out.error = detail::io_error(ec, "accept on", s->address, ctx, where, s->closed.load(std::memory_order_acquire));
  } else {
    out.value = Conn(std::move(socket), where);
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
  auto s = std::make_shared<detail::ListenerState>(io_context_here());
  auto& acceptor = s->acceptor;
  const boost::asio::ip::tcp::endpoint endpoint(ip, number);
  if (!acceptor.open(endpoint.protocol(), ec) &&
      !acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec) &&
      !acceptor.bind(endpoint, ec) && !acceptor.listen(boost::asio::socket_base::max_listen_connections, ec)) {
    // Kept: reading them later from another thread would race a close on the worker.
    const auto bound = acceptor.local_endpoint(ec);
    s->address = endpoint_text(bound);
    s->port = bound.port();
    out.value.s_ = std::move(s);
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
    // A lookup is a blocking call that nothing can cancel (Asio's resolver takes no
    // cancellation slot), so the dial waits for it or for the context, whichever ends
    // first; a lookup left behind finishes on its thread and frees its block.
    if (ctx.is_done()) {
      out.error = detail::io_error(boost::asio::error::operation_aborted, "resolve", address, ctx, where);
      co_return out;
    }
    auto lookup = std::make_shared<Lookup>();
    lookup->host = host;
    lookup->port = port;
    if (!start_lookup(lookup)) {
      out.error = Error(std::make_error_code(std::errc::resource_unavailable_try_again),
                        "resolve " + address + ": no thread for the lookup", where);
      co_return out;
    }
    auto ended = co_await cogo::select(lookup->done.recv(), ctx.done());
    if (ended.index() == 1) {
      out.error = detail::io_error(boost::asio::error::operation_aborted, "resolve", address, ctx, where);
      co_return out;
    }
    if (lookup->ec) {
      out.error = detail::io_error(lookup->ec, "resolve", address, ctx, where);
      co_return out;
    }
    endpoints = std::move(lookup->found);
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
  out.value = Conn(std::move(socket), where);
  co_return out;
}

}  // namespace cogo::asio
