#include "cogo/context.hpp"

#include <new>
#include <ostream>
#include <vector>

#include "cogo/detail/deadline_node.hpp"
#include "cogo/detail/error_access.hpp"
#include "cogo/detail/format.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo {
namespace detail {

// ---------------------------------------------------------------- Node

Node::Node(NodeKind kind, Node* parent, std::uint32_t refs) noexcept
    : refs_(refs), kind_(kind), parent_(parent) {
  if (parent != nullptr) {
    done_ = parent->done_;
    vals_ = parent->vals_;
  }
  if (!is_static()) count_contexts(1);
}

Node::~Node() {
  if (!is_static()) count_contexts(-1);
}

ValueHit Node::find_value(const KeyBase* /*key*/) const noexcept { return {false, nullptr}; }

void Node::destroy_chain(Node* n) noexcept {
  // A long chain whose leaf dies frees every ancestor it kept alive; a loop, not
  // recursion, so that a 10,000-deep chain cannot exhaust the stack.
  while (n != nullptr) {
    Node* p = n->parent_;
    delete n;
    if (p == nullptr || p->is_static() || !p->drop_ref()) break;
    n = p;
  }
}

namespace {

class StaticNode final : public Node {
 public:
  explicit StaticNode(NodeKind kind) noexcept : Node(kind, nullptr) {}
  void describe_self(std::string& out) const override {
    out += kind() == NodeKind::background ? "context.Background" : "context.TODO";
  }
};

// Never destroyed: threads may still use background() while the process exits.
template <NodeKind K>
Node* static_node() noexcept {
  alignas(StaticNode) static unsigned char storage[sizeof(StaticNode)];
  static Node* const n = ::new (static_cast<void*>(storage)) StaticNode(K);
  return n;
}

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

Node* background_node() noexcept { return static_node<NodeKind::background>(); }
Node* todo_node() noexcept { return static_node<NodeKind::todo>(); }

// ---------------------------------------------------------------- values

ValueNodeBase::ValueNodeBase(Node* parent, const KeyBase* key) noexcept
    : Node(NodeKind::value, parent) {
  keys_[0] = key;
  values_[0] = nullptr;
  Node* up = parent->values();
  if (up != nullptr && up->kind() == NodeKind::value &&
      static_cast<ValueNodeBase*>(up)->count_ < kChunk) {
    // Join the chunk above: copy its bindings after this node's own.
    const auto* u = static_cast<ValueNodeBase*>(up);
    for (int i = 0; i < u->count_; ++i) {
      keys_[i + 1] = u->keys_[i];
      values_[i + 1] = u->values_[i];
    }
    count_ = static_cast<std::uint8_t>(u->count_ + 1);
    next_ = u->next_;
  } else {
    count_ = 1;
    next_ = up;
  }
  vals_ = this;
}

void ValueNodeBase::describe_self(std::string& out) const {
  out += ".WithValue(";
  out += key()->name();
  out += ", ";
  append_value(out);
  out += ')';
}

const void* lookup_value(const Node* n, const KeyBase* key) noexcept {
  const Node* v = n->values();
  while (v != nullptr) {
    if (COGO_LIKELY(v->kind() == NodeKind::value)) {
      const auto* vn = static_cast<const ValueNodeBase*>(v);
      const int count = vn->chunk_size();
      for (int i = 0; i < count; ++i) {
        if (vn->chunk_key(i) == key) return vn->chunk_value(i);
      }
      v = vn->after_chunk();
    } else {
      const ValueHit hit = v->find_value(key);
      if (hit.found) return hit.value;
      v = v->parent() != nullptr ? v->parent()->values() : nullptr;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------- CancelNode

CancelNode::CancelNode(NodeKind kind, Node* parent, source_location site,
                       std::uint32_t refs) noexcept
    : Node(kind, parent, refs), site_(site) {
  CancelNode* p = done_;
  deadline_ns_ = p != nullptr ? p->deadline_ns_ : kNoDeadline;
  done_ = this;
  if (COGO_UNLIKELY(g_track_contexts.load(std::memory_order_relaxed)) &&
      kind != NodeKind::custom) {
    track_context(this);
  }
}

CancelNode::~CancelNode() {
  if (tracked_) untrack_context(this);
  // Children, callbacks and waiters hold references, so only the node's own stop link
  // can still be listed here.
  delete stop_link_;
}

CancelNode* CancelNode::make(Node* parent, source_location site, std::uint32_t refs) {
  return new CancelNode(NodeKind::cancel, parent, site, refs);
}

void CancelNode::describe_self(std::string& out) const { out += ".WithCancel"; }

void CancelNode::attach() noexcept {
  CancelNode* p = parent_ != nullptr ? parent_->done_source() : nullptr;
  if (p == nullptr) return;  // nothing above can ever be cancelled
  if (!p->is_done()) {
    LockGuard g(p->mu_);
    if (!p->done_flag_.load(std::memory_order_relaxed)) {
      // The parent's list holds a reference, given back by the CancelFunc's cancel. A
      // custom node has no CancelFunc: it is listed weakly and unlinks when it dies.
      // attach() runs before the node is shared, so the count needs no atomic add.
      if (kind_ != NodeKind::custom) refs_.add_unshared();
      p->links_.push_back(static_cast<ChildLink*>(this));
      return;
    }
  }
  // Born done: the parent's err and cause, as Go's propagateCancel does.
  finish(p->err_, p->cause_);
  drop_timer_ref();
}

bool CancelNode::finish(const Error& err, const Error& cause, bool* has_links) noexcept {
  LockGuard g(mu_);
  if (done_flag_.load(std::memory_order_relaxed)) return false;
  if (has_links != nullptr) *has_links = !links_.empty();
  err_ = err;
  cause_ = cause;
  if (kind_ == NodeKind::deadline) static_cast<DeadlineNode*>(this)->disarm_locked();
  if (COGO_UNLIKELY(tracked_)) untrack_context(this);
  done_flag_.store(true, std::memory_order_release);
  return true;
}

void CancelNode::drop_timer_ref() noexcept {
  // Only the thread whose finish() succeeded reads or writes this flag.
  if (timer_ref_to_drop_) {
    timer_ref_to_drop_ = false;
    release();  // never the last: the caller holds a reference
  }
}

bool CancelNode::cancel(const Error& err, const Error& cause) noexcept {
  bool has_links = false;
  if (is_done() || !finish(err, cause, &has_links)) return false;
  drop_timer_ref();
  if (has_links) drain();
  unlink_from_parent();
  note_cancel(*this, err, cause);
  return true;
}

void CancelNode::drain() noexcept {
  // Depth-first over the subtree with an intrusive stack threaded through drain_next_.
  // Each node on the stack other than `this` is held by the list reference taken over
  // when it was popped from its parent. A node leaves the stack with the pop that
  // empties its list (nothing can be listed once it is done), so each node's lock is
  // taken once per link, not once more to find the list empty.
  drain_next_ = nullptr;
  CancelNode* top = this;
  while (top != nullptr) {
    ListNode* popped;
    bool emptied;
    bool dying = false;
    {
      LockGuard g(top->mu_);
      popped = top->links_.pop_front();
      emptied = top->links_.empty();
      if (popped != nullptr && static_cast<Link*>(popped)->notify == nullptr) {
        CancelNode* c = from_child_link(static_cast<Link*>(popped));
        // A weakly listed custom child whose count reached zero is being freed; its
        // destructor waits for this lock and then finds itself unlinked.
        if (c->kind_ == NodeKind::custom) dying = !c->refs_.try_add();
      }
    }
    CancelNode* const source = top;
    if (emptied) top = top->drain_next_;  // `source` is done with; released below
    if (popped != nullptr && !dying) {
      Link* l = static_cast<Link*>(popped);
      if (l->notify != nullptr) {
        l->notify(l, *source);
      } else {
        CancelNode* child = from_child_link(l);
        bool child_links = false;
        if (child->finish(err_, cause_, &child_links)) {
          child->drop_timer_ref();
          if (child_links) {
            child->drain_next_ = top;
            top = child;
          } else {
            child->release();  // nothing below it: done with it at once
          }
        } else {
          child->release();  // it cancelled itself first; drop the list reference
        }
      }
    }
    // After its last link is handled: a callback may still read the source's err.
    if (emptied && source != this) source->release();
  }
}

void CancelNode::unlink_from_parent() noexcept {
  CancelNode* p = parent_ != nullptr ? parent_->done_source() : nullptr;
  if (p == nullptr) return;
  bool removed = false;
  {
    LockGuard g(p->mu_);
    auto* self = static_cast<ChildLink*>(this);
    if (self->linked()) {
      List::remove(self);
      removed = true;
    }
  }
  // If the parent's canceller popped us first, it owns the list reference instead.
  if (removed && kind_ != NodeKind::custom) release();  // never the last: the caller holds one
}

void CancelNode::unlink_weak() noexcept {
  CancelNode* p = parent_ != nullptr ? parent_->done_source() : nullptr;
  if (p == nullptr) return;
  LockGuard g(p->mu_);
  auto* self = static_cast<ChildLink*>(this);
  if (self->linked()) List::remove(self);
}

bool CancelNode::subscribe(Link* l) noexcept {
  LockGuard g(mu_);
  if (done_flag_.load(std::memory_order_relaxed)) return false;
  links_.push_back(l);
  return true;
}

bool CancelNode::unsubscribe(Link* l) noexcept {
  LockGuard g(mu_);
  if (!l->linked()) return false;
  List::remove(l);
  return true;
}

std::size_t CancelNode::link_count() noexcept {
  LockGuard g(mu_);
  std::size_t n = 0;
  links_.for_each([&](ListNode*) { ++n; });
  return n;
}

std::stop_token CancelNode::stop_token() {
  {
    LockGuard g(mu_);
    if (!done_flag_.load(std::memory_order_relaxed)) {
      if (stop_link_ == nullptr) {
        stop_link_ = new StopLink;
        stop_link_->notify = [](Link* self, CancelNode&) noexcept {
          static_cast<StopLink*>(self)->source.request_stop();
        };
        links_.push_back(stop_link_);
      }
      return stop_link_->source.get_token();
    }
  }
  std::stop_source stopped;
  stopped.request_stop();
  return stopped.get_token();
}

// ---------------------------------------------------------------- DeadlineNode

DeadlineNode::DeadlineNode(Node* parent, std::int64_t deadline_ns, std::int64_t timeout_ns,
                           Error cause, source_location site, TimerService& svc)
    : CancelNode(NodeKind::deadline, parent, site, 2),
      TimerEntry(TimerKind::deadline),
      svc_(&svc),
      timeout_ns_(timeout_ns),
      deadline_cause_(std::move(cause)) {
  deadline_ns_ = deadline_ns;
  svc_->add_ref();
}

DeadlineNode::~DeadlineNode() { svc_->release(); }

void DeadlineNode::arm() {
  LockGuard g(mu_);
  if (done_flag_.load(std::memory_order_relaxed)) return;
  refs_.add();  // the armed timer holds a reference
  armed_ = true;
  try {
    svc_->arm(this, deadline_ns_);
  } catch (...) {
    armed_ = false;
    refs_.drop();
    throw;
  }
}

void DeadlineNode::disarm_locked() noexcept {
  if (!armed_) return;
  armed_ = false;
  if (svc_->disarm(this)) timer_ref_to_drop_ = true;
  // Otherwise the timer has fired and on_fire is in flight; it drops its own reference.
}

void DeadlineNode::expire() noexcept {
  const std::error_code code = make_error_code(errc::deadline_exceeded);
  Error err(code, source_location());
  Error why = err;
  try {
    std::string msg;
    msg.reserve(96);
    msg += "deadline set at ";
    append_site(msg, site_);
    msg += ", ";
    append_go_duration(msg, timeout_ns_);
    if (deadline_cause_) {
      why = ErrorAccess::with_message(code, std::string(msg), deadline_cause_, source_location());
    }
    err = ErrorAccess::with_message(code, std::move(msg), Error(), source_location());
    if (!deadline_cause_) why = err;
  } catch (...) {
    // Out of memory: expire anyway, with the bare code.
  }
  cancel(err, why);
}

void fire_deadline(TimerEntry* e, std::uint16_t /*gen*/, std::int64_t /*when*/) noexcept {
  auto* d = static_cast<DeadlineNode*>(e);
  if (!d->is_done()) d->expire();
  d->release();  // the armed timer's reference
}

void DeadlineNode::describe_self(std::string& out) const {
  out += ".WithDeadline(";
  append_wall_time(out, Context::clock::time_point(std::chrono::nanoseconds(deadline_ns_)));
  out += " [";
  append_go_duration(out, deadline_ns_ - svc_->now());
  out += "])";
}

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

// ---------------------------------------------------------------- describe

std::string describe(const Node* n) {
  std::vector<const Node*> chain;
  for (const Node* c = n; c != nullptr; c = c->parent()) {
    chain.push_back(c);
    if (c->starts_chain()) break;
  }
  std::string out;
  for (std::size_t i = chain.size(); i-- > 0;) chain[i]->describe_self(out);
  if (const CancelNode* d = n->done_source(); d != nullptr && d->is_done()) {
    out += " [";
    out += d->cause().to_string();
    out += ']';
  }
  return out;
}

// ---------------------------------------------------------------- factories

// `due`: the deadline has already passed (known by the caller without another clock read).
Cancelable<CancelFunc> with_deadline_on(const Context& parent, std::int64_t deadline_ns,
                                        std::int64_t timeout_ns, bool due, Error cause,
                                        source_location where, TimerService& svc) {
  Node* p = parent.node();
  if (const CancelNode* ds = p->done_source(); ds != nullptr && ds->deadline_ns() < deadline_ns) {
    return with_cancel(parent, where);  // the parent's deadline comes first
  }
  p->add_ref();
  auto* d = new DeadlineNode(p, deadline_ns, timeout_ns, std::move(cause), where, svc);
  Cancelable<CancelFunc> r{Context::adopt(d), CancelFunc(d)};
  d->attach();
  if (!d->is_done()) {
    if (due) {
      d->expire();
    } else {
      d->arm();
    }
  }
  return r;
}

Cancelable<CancelFunc> with_timeout_ns(const Context& parent, std::int64_t ns, Error cause,
                                       source_location where) {
  TimerService& svc = TimerService::current();
  return with_deadline_on(parent, svc.deadline_after(ns), ns, ns <= 0, std::move(cause), where, svc);
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
  if (d == nullptr || d->deadline_ns() == detail::kNoDeadline) return std::nullopt;
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

Cancelable<CancelFunc> with_deadline(const Context& parent, Context::clock::time_point deadline,
                                     source_location where) {
  return with_deadline(parent, deadline, Error(), where);
}

Cancelable<CancelFunc> with_deadline(const Context& parent, Context::clock::time_point deadline,
                                     Error cause, source_location where) {
  detail::TimerService& svc = detail::TimerService::current();
  const std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  const std::int64_t now = svc.now();
  return detail::with_deadline_on(parent, ns, ns - now, ns <= now, std::move(cause), where, svc);
}

}  // namespace cogo
