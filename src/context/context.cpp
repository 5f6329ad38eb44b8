// The public Context API, without_cancel, and the cancel functions.
#include "cogo/context.hpp"

#include <ostream>
#include <string>

#include "cogo/detail/error_access.hpp"

namespace cogo {
namespace detail {

namespace {

class WithoutCancelNode final : public Node {
 public:
  explicit WithoutCancelNode(Node* parent) noexcept : Node(NodeKind::without_cancel, parent) {
    done_ = nullptr;
  }
  void describe_self(std::string& out) const override { out += ".WithoutCancel"; }
};

const ErrorRep* released_rep() {
  static const ErrorRep* const rep = ErrorAccess::immortal_rep("cancel handle released");
  return rep;
}

}  // namespace

bool cancel_at(CancelNode* n, Error cause, source_location where) noexcept {
  if (n->is_done()) return false;
  const Error e(errc::canceled, where);
  if (!cause) return n->cancel(e, e);
  Error why;
  try {
    why = Error(make_error_code(errc::canceled), std::string_view(), std::move(cause), where);
  } catch (...) {
    why = e;  // out of memory: still cancel, without the cause
  }
  return n->cancel(e, why);
}

}  // namespace detail

// ---------------------------------------------------------------- Context

Context::Context() noexcept : node_(detail::background_node()) {}

// Self-assignment is safe: the reference is added before the old one is dropped.
Context& Context::operator=(const Context& o) noexcept {  // NOLINT(bugprone-unhandled-self-assignment)
  o.node_->add_ref();
  node_->release();
  node_ = o.node_;
  return *this;
}

Context& Context::operator=(Context&& o) noexcept {
  if (this != &o) {
    node_->release();
    node_ = std::exchange(o.node_, detail::background_node());
  }
  return *this;
}

Error Context::err() const noexcept {
  const detail::CancelNode* d = node_->done_source();
  return d != nullptr && d->is_done() ? d->err() : Error();
}

bool Context::is_done() const noexcept {
  const detail::CancelNode* d = node_->done_source();
  return d != nullptr && d->is_done();
}

std::optional<Context::clock::time_point> Context::deadline() const noexcept {
  const detail::CancelNode* d = node_->done_source();
  if (d == nullptr || !d->has_deadline()) return std::nullopt;
  return clock::time_point(std::chrono::nanoseconds(d->deadline_ns()));
}

std::stop_token Context::stop_token() const {
  detail::CancelNode* d = node_->done_source();
  return d != nullptr ? d->stop_token() : std::stop_token();
}

std::string Context::describe() const { return detail::describe(node_); }

std::ostream& operator<<(std::ostream& os, const Context& ctx) { return os << ctx.describe(); }

Context background() noexcept { return {}; }

Context todo() noexcept { return Context::adopt(detail::todo_node()); }

Error cause(const Context& ctx) {
  const detail::CancelNode* d = ctx.node()->done_source();
  return d != nullptr && d->is_done() ? d->cause() : Error();
}

Context without_cancel(const Context& parent) {
  detail::Node* p = parent.node();
  p->add_ref();
  return Context::adopt(new detail::WithoutCancelNode(p));
}

// ---------------------------------------------------------------- cancel functions

namespace detail {

CancelHandle& CancelHandle::operator=(CancelHandle&& o) noexcept {
  if (this != &o) {
    CancelHandle old(std::move(*this));  // cancels the context it held
    node_ = std::exchange(o.node_, nullptr);
  }
  return *this;
}

// A cancel handle going out of scope cancels, naming the context's creation site.
CancelHandle::~CancelHandle() {
  if (node_ == nullptr) return;
  if (!node_->is_done()) {
    const Error e = ErrorAccess::with_rep(make_error_code(errc::canceled), node_->site(),
                                          released_rep());
    node_->cancel(e, e);
  }
  node_->release();
}

namespace {
CancelNode* cancel_child(const Context& parent, source_location where) {
  Node* p = parent.node();
  p->add_ref();
  CancelNode* c = CancelNode::make(p, where, 2);  // the context and the cancel handle
  c->attach();
  return c;
}
}  // namespace

}  // namespace detail

void CancelFunc::operator()(source_location where) const noexcept {
  if (node_ != nullptr) detail::cancel_at(node_, Error(), where);
}

void CancelCauseFunc::operator()(Error cause, source_location where) const noexcept {
  if (node_ != nullptr) detail::cancel_at(node_, std::move(cause), where);
}

Cancelable<CancelFunc> with_cancel(const Context& parent, source_location where) {
  detail::CancelNode* c = detail::cancel_child(parent, where);
  return {Context::adopt(c), CancelFunc(c)};
}

Cancelable<CancelCauseFunc> with_cancel_cause(const Context& parent, source_location where) {
  detail::CancelNode* c = detail::cancel_child(parent, where);
  return {Context::adopt(c), CancelCauseFunc(c)};
}

}  // namespace cogo
