// Context nodes: the static roots, value chunks, and the cancelable node's list of
// children and callbacks (attach, cancel, drain). See cogo/detail/context_node.hpp.
#include "cogo/detail/context_node.hpp"

#include <new>
#include <string>
#include <vector>

#include "cogo/context.hpp"
#include "cogo/detail/deadline_node.hpp"

namespace cogo::detail {

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
  has_deadline_ = p != nullptr && p->has_deadline_;
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

}  // namespace cogo::detail
