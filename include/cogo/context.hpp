// Context
//
// A request's cancellation, deadline and values, passed down a tree of calls and tasks.
// A Context is a cheap handle (an intrusive reference count) to an immutable node; copies
// share the node. Default-constructed, it is background(): never done, no deadline, no
// values. There is no null context.
//
// Derive contexts with with_cancel, with_cancel_cause, with_deadline, with_timeout,
// with_value, without_value and without_cancel. Cancelling a context cancels every context
// derived from it; a child of a context that is already done is born done. Every cancel
// records its cause and the source line that requested it: err(), cause() and describe()
// print them ("context canceled at src/server.cpp:212").
//
// Waiting: from a task, `co_await ctx.done()` or a select case ctx.done(); from a thread,
//   wait(), wait_for(), wait_until().
// Thread safety: every member and every function here is safe from any thread at once.
// Cancellation: a context is done once cancelled or past its deadline; then err() is
//   non-empty and never changes, is_done() is true and every wait returns.
// Memory ordering: everything a thread did before cancelling happens-before whatever a
//   thread does after observing the context done (is_done(), err(), a wait).
// Lifetime: a node lives while a handle, a CancelFunc, a child or an armed timer refers to
//   it. A cancelled node is unlinked from its parent and its timer released at once.
// Complexity: deriving and cancelling one context is O(1) (one allocation); cancelling a
//   subtree of N nodes is O(N) with no allocation and no recursion; value(key) is
//   O(number of value bindings above).
// Example:
//   auto [ctx, cancel] = cogo::with_timeout(parent, 250ms);
//   auto req = cogo::with_value(ctx, request_id, std::string("r-17"));
//   if (!req.wait_for(1s)) ...;                 // ctx.err(): context deadline exceeded (...)
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/context_node.hpp"
#include "cogo/detail/done_case.hpp"
#include "cogo/detail/duration.hpp"
#include "cogo/detail/value_node.hpp"
#include "cogo/error.hpp"

namespace cogo {

// KeyBase, Key<T>
//
// A typed key for context values. Keys compare by identity: two keys never collide, even
// with the same name, so packages cannot trample each other's values (Go's advice
// against string keys, enforced by the type). Define each key once, at namespace scope:
//   inline const cogo::Key<UserId> user_id{"user_id"};
// The name is used only when printing contexts.
class KeyBase {
 public:
  constexpr explicit KeyBase(std::string_view name) noexcept : name_(name) {}
  KeyBase(const KeyBase&) = delete;
  KeyBase& operator=(const KeyBase&) = delete;
  constexpr std::string_view name() const noexcept { return name_; }

 protected:
  ~KeyBase() = default;

 private:
  std::string_view name_;
};

template <class T>
class Key final : public KeyBase {
 public:
  using value_type = T;
  constexpr explicit Key(std::string_view name) noexcept : KeyBase(name) {}
};

class Context {
 public:
  using clock = std::chrono::steady_clock;

  // background().
  Context() noexcept;
  Context(const Context& o) noexcept : node_(o.node_) { node_->add_ref(); }
  Context(Context&& o) noexcept : node_(std::exchange(o.node_, background_node_ptr())) {}
  Context& operator=(const Context& o) noexcept;
  Context& operator=(Context&& o) noexcept;
  ~Context() { node_->release(); }

  // Empty until done; then canceled (with the site of the cancel) or deadline_exceeded
  // (with the deadline's site and length). Never changes once set.
  Error err() const noexcept;
  bool is_done() const noexcept;
  // The earliest deadline of this context and its ancestors, if any.
  std::optional<clock::time_point> deadline() const noexcept;

  // The value bound to `key` by the innermost with_value above, or null.
  template <class T>
  const T* value(const Key<T>& key) const noexcept {
    return static_cast<const T*>(detail::lookup_value(node_, &key));
  }

  // Blocks the calling thread until the context is done. A context that can never be
  // done (background, without_cancel) blocks forever, as receiving from Go's nil Done
  // channel does. On a scheduler worker (in a task or a callback) these blocking waits
  // throw usage_error naming the call: co_await ctx.done() there.
  void wait(source_location where = source_location::current()) const;
  // Returns true once done, false if the time passed first. Measured on the steady clock,
  // rounded up to whole nanoseconds; a time point of another clock is waited for as long
  // as that clock says it is from now. Times too far to represent saturate: the longest
  // waits last until the context is done. A floating duration or time point that is NaN
  // throws std::invalid_argument.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d,
                source_location where = source_location::current()) const {
    return wait_until_ns(detail::saturating_add(detail::monotonic_ns(), detail::saturating_ns(d)),
                         "Context::wait_for", where);
  }
  template <class C, class D>
  bool wait_until(std::chrono::time_point<C, D> t,
                  source_location where = source_location::current()) const {
    if constexpr (std::is_same_v<C, clock>) {
      return wait_until_ns(detail::saturating_ns(t.time_since_epoch()), "Context::wait_until", where);
    } else {
      const std::int64_t left = detail::saturating_ns_until(t);
      return wait_until_ns(detail::saturating_add(detail::monotonic_ns(), left), "Context::wait_until",
                           where);
    }
  }

  // An awaitable and a select case that completes once the context is done, with err().
  // On a context that can never be done (background, without_cancel) it never completes.
  [[nodiscard]] detail::DoneCase done(source_location where = source_location::current()) const noexcept {
    return detail::DoneCase(node_->done_source(), where);
  }

  // A std::stop_token whose stop is requested when this context is done. Its callbacks
  // (std::stop_callback) run on the thread that cancels, as std::stop_source's do. For a
  // context that can never be done, stop_possible() is false.
  std::stop_token stop_token() const;

  // Go's String() form ("context.Background.WithCancel") and, once done, the cause in
  // brackets: "context.Background.WithCancel [context canceled at main.cpp:12]".
  std::string describe() const;
  friend std::ostream& operator<<(std::ostream& os, const Context& ctx);

  // Same node.
  friend bool operator==(const Context& a, const Context& b) noexcept { return a.node_ == b.node_; }

  // For adapters and diagnostics: the node, and a context from a node reference.
  detail::Node* node() const noexcept { return node_; }
  static Context adopt(detail::Node* n) noexcept { return Context(n); }

 private:
  explicit Context(detail::Node* n) noexcept : node_(n) {}
  static detail::Node* background_node_ptr() noexcept { return detail::background_node(); }
  bool wait_until_ns(std::int64_t deadline_ns, const char* what, const source_location& where) const;

  detail::Node* node_;
};

Context background() noexcept;
Context todo() noexcept;

namespace detail {
// What CancelFunc and CancelCauseFunc share: move-only ownership of one reference on a
// cancelable node, and cancelling it when destroyed.
class CancelHandle {
 public:
  CancelHandle() noexcept = default;
  explicit CancelHandle(CancelNode* n) noexcept : node_(n) {}  // adopts a reference
  CancelHandle(CancelHandle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  CancelHandle& operator=(CancelHandle&& o) noexcept;
  CancelHandle(const CancelHandle&) = delete;
  CancelHandle& operator=(const CancelHandle&) = delete;
  ~CancelHandle();

  explicit operator bool() const noexcept { return node_ != nullptr; }

 protected:
  CancelNode* node_ = nullptr;
};
}  // namespace detail

// CancelFunc
//
// Cancels its context: the context's err() becomes canceled, with the site of the call.
// Idempotent and safe from any thread; only the first cancel of a context takes effect.
// Move-only. Destroying a CancelFunc cancels its context (Go's `defer cancel()`, built
// in), recording the site where the context was created and "cancel handle released";
// so does assigning another CancelFunc over it.
class [[nodiscard]] CancelFunc : public detail::CancelHandle {
 public:
  using CancelHandle::CancelHandle;
  void operator()(source_location where = source_location::current()) const noexcept;
};

// CancelCauseFunc
//
// Like CancelFunc, and records a cause: cause(ctx) then returns an error that says where
// the cancel happened and wraps `cause`. An empty cause is the same as CancelFunc's cancel.
class [[nodiscard]] CancelCauseFunc : public detail::CancelHandle {
 public:
  using CancelHandle::CancelHandle;
  void operator()(Error cause = {}, source_location where = source_location::current()) const noexcept;
};

// The result of a with_* factory that can cancel: `auto [ctx, cancel] = with_cancel(p);`.
template <class Cancel>
struct [[nodiscard]] Cancelable {
  Context ctx;
  Cancel cancel;
};

// A child cancelled by its CancelFunc or with its parent.
[[nodiscard]] Cancelable<CancelFunc> with_cancel(
    const Context& parent, source_location where = source_location::current());

// A child whose cancel records a cause.
[[nodiscard]] Cancelable<CancelCauseFunc> with_cancel_cause(
    const Context& parent, source_location where = source_location::current());

// A child that is also done at `deadline`, with deadline_exceeded. When the parent's
// deadline is earlier, this is with_cancel(parent) and `cause` is dropped (as in Go).
// When `deadline` has passed, the child is born done. time_point::max() is a deadline too
// (deadline() reports it) but never passes. `cause`, if given, is what cause()
// reports when the deadline passes; the returned CancelFunc never sets a cause.
[[nodiscard]] Cancelable<CancelFunc> with_deadline(
    const Context& parent, Context::clock::time_point deadline,
    source_location where = source_location::current());
[[nodiscard]] Cancelable<CancelFunc> with_deadline(
    const Context& parent, Context::clock::time_point deadline, Error cause,
    source_location where = source_location::current());

namespace detail {
Cancelable<CancelFunc> with_timeout_ns(const Context& parent, std::int64_t ns, Error cause,
                                       source_location where);
}  // namespace detail

// with_deadline(parent, now + timeout), rounded up to whole nanoseconds. Timeouts too long
// to represent saturate to the latest deadline, time_point::max(), which deadline() reports
// and which never passes. A NaN timeout throws std::invalid_argument.
template <class Rep, class Period>
[[nodiscard]] Cancelable<CancelFunc> with_timeout(
    const Context& parent, std::chrono::duration<Rep, Period> timeout,
    source_location where = source_location::current()) {
  return detail::with_timeout_ns(parent, detail::saturating_ns(timeout), Error(), where);
}
template <class Rep, class Period>
[[nodiscard]] Cancelable<CancelFunc> with_timeout(
    const Context& parent, std::chrono::duration<Rep, Period> timeout,
    Error cause,  // NOLINT(performance-unnecessary-value-param): moved into the node
    source_location where = source_location::current()) {
  return detail::with_timeout_ns(parent, detail::saturating_ns(timeout), std::move(cause), where);
}

// A child bound to a value. Lookups see the innermost binding of a key first.
template <class T, class V>
  requires std::constructible_from<T, V&&>
[[nodiscard]] Context with_value(const Context& parent, const Key<T>& key, V&& value) {
  detail::Node* p = parent.node();
  p->add_ref();
  return Context::adopt(new detail::ValueNode<T>(p, &key, std::forward<V>(value)));
}

// A child in which `key` is bound to nothing, hiding outer bindings (Go's
// WithValue(ctx, key, nil)).
template <class T>
[[nodiscard]] Context without_value(const Context& parent, const Key<T>& key) {
  detail::Node* p = parent.node();
  p->add_ref();
  return Context::adopt(new detail::NilValueNode(p, &key));
}

// A child that keeps the parent's values but is never done and has no deadline, even
// when the parent is cancelled. cause() of it is empty.
[[nodiscard]] Context without_cancel(const Context& parent);

// Why ctx is done: empty until then. Cancelled with a cause: an error with code canceled,
// the site of the cancel, wrapping the cause. Past a deadline given a cause: code
// deadline_exceeded wrapping it. Otherwise the same as err(). Cancelled by an ancestor:
// the ancestor's cause. Without_cancel contexts: always empty.
Error cause(const Context& ctx);

}  // namespace cogo

#include "cogo/after_func.hpp"
