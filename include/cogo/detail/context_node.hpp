// The nodes behind cogo::Context. Internal.
//
// A context is a tree of immutable, reference-counted nodes. Each node knows:
//   - its parent (a strong reference),
//   - the nearest cancelable node at or above it (its "done source"; null when nothing
//     above can ever be cancelled), which answers err(), cause(), deadline() and waits,
//   - the nearest value-bearing node at or above it, where value lookups start.
//
// A cancelable node (CancelNode) keeps an intrusive list of links under its lock: child
// cancelable nodes, callback registrations (after_func, stop tokens) and waiters. A
// with_cancel or deadline child is listed with a reference, which its CancelFunc's cancel
// gives back. A custom child has no such owner, so it is listed without one: it unlinks
// itself when its last reference goes, and a canceller that pops it first takes a
// reference only if the count has not yet reached zero. To
// cancel, a node is marked done under its lock, then its list is drained one link at a
// time, each link popped under the lock and handled with no lock held: a child is marked
// done and pushed on the canceller's explicit stack (no recursion, no allocation), a
// callback is invoked. At most one lock is held at a time anywhere in this file.
#pragma once

#include <atomic>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "cogo/detail/config.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/pool.hpp"
#include "cogo/detail/ref.hpp"
#include "cogo/error.hpp"

namespace cogo {
class KeyBase;
}

namespace cogo::detail {

class CancelNode;
class TimerService;

enum class NodeKind : std::uint8_t {
  background,
  todo,
  cancel,
  deadline,
  value,
  without_cancel,
  custom,
};

// A registration in a cancelable node's list. A child node's link has no notify function.
struct Link : ListNode {
  // Called once by the canceller, with no lock held, after the link has left the list.
  // `source` is done; its err() and cause() may be read.
  void (*notify)(Link* self, CancelNode& source) noexcept = nullptr;
};

// The link by which a cancelable node is listed in its parent's done source.
struct ChildLink : Link {};

// The result of asking one node for a key.
struct ValueHit {
  bool found;
  const void* value;  // null for a key bound to nothing (without_value)
};

class Node : public Pooled {
 public:
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  bool is_static() const noexcept { return kind_ <= NodeKind::todo; }
  void add_ref() noexcept {
    if (!is_static()) refs_.add();
  }
  // Drops a reference; frees the node, and then its ancestors that this was keeping
  // alive, iteratively.
  void release() noexcept {
    if (!is_static() && drop_ref()) destroy_chain(this);
  }

  NodeKind kind() const noexcept { return kind_; }
  Node* parent() const noexcept { return parent_; }
  CancelNode* done_source() const noexcept { return done_; }
  Node* values() const noexcept { return vals_; }

  // Appends this node's part of the description: the whole name for a chain root
  // (background, todo, custom), or the ".WithX(...)" suffix.
  virtual void describe_self(std::string& out) const = 0;
  // True for nodes whose description does not include their parent's.
  bool starts_chain() const noexcept {
    return kind_ == NodeKind::background || kind_ == NodeKind::todo || kind_ == NodeKind::custom;
  }
  // Value lookup for custom nodes (the only other value-bearing kind besides value nodes).
  virtual ValueHit find_value(const KeyBase* key) const noexcept;

 protected:
  // Takes over one reference on `parent` (may be null for the static roots). The node
  // starts with `refs` references.
  Node(NodeKind kind, Node* parent, std::uint32_t refs = 1) noexcept;
  virtual ~Node();

  static void destroy_chain(Node* n) noexcept;
  // Custom nodes are listed in their parent without a reference (see CancelNode::attach),
  // so the canceller may revive them with try_add(): their count must really reach zero.
  bool drop_ref() noexcept { return kind_ == NodeKind::custom ? refs_.drop_strict() : refs_.drop(); }

  RefCount refs_;
  NodeKind kind_;
  bool tracked_ = false;  // CancelNode: listed for leak checks (see leak_check.cpp)
  friend void track_context(CancelNode* n) noexcept;
  friend void untrack_context(CancelNode* n) noexcept;
  Node* parent_;
  CancelNode* done_ = nullptr;
  Node* vals_ = nullptr;
};

// A value node also carries copies of the bindings of up to three value nodes right
// above it (a "chunk" of up to four), so that a lookup walks a quarter of the chain:
// 8 hops instead of 32 for a key 32 bindings up. Ancestors are immutable and kept alive
// through parent_, so the copies never go stale.
class ValueNodeBase : public Node {
 public:
  static constexpr int kChunk = 4;

  const KeyBase* key() const noexcept { return keys_[0]; }
  int chunk_size() const noexcept { return count_; }
  const KeyBase* chunk_key(int i) const noexcept { return keys_[i]; }
  const void* chunk_value(int i) const noexcept { return values_[i]; }
  // Where a lookup continues once this node's chunk is checked.
  Node* after_chunk() const noexcept { return next_; }
  void describe_self(std::string& out) const override;

 protected:
  ValueNodeBase(Node* parent, const KeyBase* key) noexcept;
  // Sets this node's own value; call once from the derived constructor.
  void set_value(const void* v) noexcept { values_[0] = v; }
  virtual void append_value(std::string& out) const = 0;

 private:
  const KeyBase* keys_[kChunk];
  const void* values_[kChunk];
  Node* next_;
  std::uint8_t count_;
};

// A stop_source that a node requests when it is cancelled. Owned by the node.
struct StopLink : Link {
  std::stop_source source;
};

class CancelNode : public Node, private ChildLink {
 public:
  // A plain cancelable child of `parent` (adopted reference) with `refs` references.
  static CancelNode* make(Node* parent, source_location site, std::uint32_t refs);
  void describe_self(std::string& out) const override;

  bool is_done() const noexcept { return done_flag_.load(std::memory_order_acquire); }
  // Requires is_done(); immutable afterwards.
  const Error& err() const noexcept { return err_; }
  const Error& cause() const noexcept { return cause_; }
  // The earliest deadline at or above this node, or kNoDeadline. kNoDeadline is also the
  // latest deadline there can be (time_point::max()): has_deadline() tells them apart.
  std::int64_t deadline_ns() const noexcept { return deadline_ns_; }
  bool has_deadline() const noexcept { return has_deadline_; }
  const source_location& site() const noexcept { return site_; }

  // Adds `l` to the list unless the node is done. Returns false (and leaves `l` alone)
  // if it is already done.
  bool subscribe(Link* l) noexcept;
  // Removes `l` if it is still listed and returns true. Returns false if the canceller
  // has taken it: its notify is running or about to run.
  bool unsubscribe(Link* l) noexcept;

  // Marks this node done with (err, cause), cancels its subtree, releases its timer,
  // and unlinks it from its parent. Returns false if it was already done.
  // `err` must be canceled or deadline_exceeded; `cause` non-empty.
  bool cancel(const Error& err, const Error& cause) noexcept;

  std::stop_token stop_token();

  // For waits that register while holding the lock (a select holds several at once).
  Lock& wait_lock() noexcept COGO_RETURN_CAPABILITY(mu_) { return mu_; }
  bool done_locked() const noexcept COGO_REQUIRES(mu_) {
    return done_flag_.load(std::memory_order_relaxed);
  }
  void push_link_locked(Link* l) noexcept COGO_REQUIRES(mu_) { links_.push_back(l); }

  // Links this node under its parent's done source, or marks it done at once when the
  // parent is already done. Call once, right after construction.
  void attach() noexcept;

  // Number of links (children, callbacks, waiters) listed; for tests.
  std::size_t link_count() noexcept;

 protected:
  CancelNode(NodeKind kind, Node* parent, source_location site, std::uint32_t refs) noexcept;
  ~CancelNode() override;

  // Sets err/cause and the done flag; false if already done. Deadline nodes also
  // disarm their timer here.
  // `has_links`, if given, is set to whether anything was listed: when nothing was, no
  // drain is needed, since nothing can be listed once the node is done.
  bool finish(const Error& err, const Error& cause, bool* has_links = nullptr) noexcept;
  void unlink_from_parent() noexcept;
  // A dying custom node removes itself from its parent's list.
  void unlink_weak() noexcept;
  void drain() noexcept;
  void drop_timer_ref() noexcept;

  static CancelNode* from_child_link(Link* l) noexcept {
    return static_cast<CancelNode*>(static_cast<ChildLink*>(l));
  }

  Lock mu_;
  std::atomic<bool> done_flag_{false};
  List links_ COGO_GUARDED_BY(mu_);
  // The ChildLink base is listed in the parent's done source, guarded by that node's lock.
  Error err_;
  Error cause_;
  source_location site_;
  std::int64_t deadline_ns_;
  CancelNode* drain_next_ = nullptr;  // the canceller's private stack
  StopLink* stop_link_ COGO_GUARDED_BY(mu_) = nullptr;
  bool timer_ref_to_drop_ = false;  // set by finish() when it disarmed the deadline timer
  bool has_deadline_ = false;       // deadline_ns_ is a deadline, not kNoDeadline's "none"

  friend class DeadlineNode;
};

// Adds `delta` to the live contexts of diag::snapshot(): one store to a counter of the
// calling thread's (see cancel_trace.cpp), set up by the slow path on first use.
extern thread_local constinit std::atomic<std::int64_t>* tls_live_contexts;
void count_contexts_slow(int delta) noexcept;
inline void count_contexts(int delta) noexcept {
  if (std::atomic<std::int64_t>* c = tls_live_contexts) {
    c->store(c->load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  } else {
    count_contexts_slow(delta);
  }
}
// Live context nodes over all threads.
std::int64_t live_contexts() noexcept;

// Counts a cancellation that `n` originated (by site and code, in per-thread tables; see
// cancel_counts.cpp) and passes it to the cancel hook, if one is installed (cogo::diag's
// on_cancel, cogo/diag/cancel_trace.hpp). Called with no lock held.
void note_cancel(const CancelNode& n, const Error& err, const Error& cause) noexcept;
// The cancel hook: `site` is where the cancel was requested, or where the deadline was
// set. Non-null while one is installed; called with no lock held.
using CancelHookFn = void (*)(const CancelNode& n, const Error& err, const Error& cause,
                              const source_location& site) noexcept;
extern std::atomic<CancelHookFn> g_cancel_hook;
// Calls fn for every (site, code) counted so far, with its count; code 1 is
// deadline_exceeded, 0 canceled. The same site may come more than once (one per table).
void for_each_cancel_count(void (*fn)(const char* file, std::uint32_t line, const char* function,
                                      std::uint8_t code, std::uint64_t count, void* arg),
                           void* arg);

// Leak checks: while on, every cancelable node made is listed until it is done or
// freed, so that a test can name the contexts it left pending.
extern std::atomic<bool> g_track_contexts;
void track_context(CancelNode* n) noexcept;
void untrack_context(CancelNode* n) noexcept;
// Calls fn for every tracked node, with the tracking list locked: a listed node is
// alive (its destructor unlists it under that lock first).
void for_each_tracked_context(void (*fn)(CancelNode* n, void* arg), void* arg);

// Cancels `n` at `where` with errc::canceled; a non-empty `cause` is recorded wrapped in
// an error that names the site. The one path for every user-requested cancel.
bool cancel_at(CancelNode* n, Error cause, source_location where) noexcept;

// The static roots.
Node* background_node() noexcept;
Node* todo_node() noexcept;

// Looks `key` up from `n` towards the root. Returns null when not found or bound to
// nothing.
const void* lookup_value(const Node* n, const KeyBase* key) noexcept;

// Go's chain form plus, once done, the cause: "context.Background.WithCancel [context
// canceled at x.cpp:12]".
std::string describe(const Node* n);

// A thread blocked on a context: listed in the done source, woken by a futex.
struct ThreadWaiter : Link {
  std::atomic<std::uint32_t> state{0};  // 1 once notified
  ThreadWaiter() noexcept;
};

// Waits on a thread until `n` is done or the CLOCK_MONOTONIC deadline passes.
bool wait_done(CancelNode* n, std::int64_t deadline_ns) noexcept;

}  // namespace cogo::detail
