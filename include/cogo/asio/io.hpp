// cogo::asio: Asio's I/O inside cogo's scheduler
//
// Each worker of a scheduler that does I/O owns one boost::asio::io_context and runs it
// itself: it polls it for ready completions before stealing and every few dozen runs,
// and when idle it sleeps inside it (until the earliest cogo timer) instead of on its
// futex; waking the worker posts to it. An I/O object (a socket) belongs to the
// io_context of the worker where it was made; its completions resume their task on that
// worker. An operation started on another worker is handed to the owner (posted to its
// io_context), never run on a foreign thread. I/O is set up on a scheduler the first time
// one of its tasks asks for an io_context.
//
//   io_context_here()   the calling worker's io_context (outside a task: one of the
//                       default scheduler's workers', in turn)
//   use_task            a completion token: any Asio operation becomes awaitable,
//                       `auto [ec, n] = co_await sock.async_read_some(buf, cogo::asio::use_task);`
//   use_task(ctx)       the same, cancelled (Asio's terminal cancellation, emitted on the
//                       operation's own io_context) when ctx is done; the operation then
//                       completes with operation_aborted. An operation that completes as
//                       ctx is cancelled reports its result.
//
// The friendlier layer, with cogo::Error values that say what failed and why, is
// cogo/asio/tcp.hpp.
//
// Thread safety: use_task awaitables are awaited from tasks (on any worker); the
//   operation runs on its I/O object's worker. io_context_here() is safe from any thread.
// Lifetime: an I/O object must be destroyed before its scheduler is (its io_context is
//   destroyed with the scheduler, after its workers stop).
// Cancellation: use_task(ctx) as above; plain use_task is not cancellation-aware.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <new>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cogo/context.hpp"
#include "cogo/detail/config.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/error.hpp"

namespace cogo::asio {

// The calling worker's io_context (setting up I/O on its scheduler if needed); on other
// threads, an io_context of the default scheduler's workers, chosen in turn.
boost::asio::io_context& io_context_here();

// Operations awaited with use_task and not completed, over the process.
std::int64_t pending_operations() noexcept;

// The completion token; see the top of this file.
struct use_task_t {
  Context ctx;                  // background(): not cancellation-aware
  const char* detail = nullptr;  // what the wait is on, for dumps ("read 10.0.0.1:80")
  source_location where;

  use_task_t() noexcept = default;
  // use_task(ctx[, detail]): cancelled when ctx is done.
  use_task_t operator()(Context c, const char* what = nullptr,
                        source_location site = source_location::current()) const {
    use_task_t t;
    t.ctx = std::move(c);
    t.detail = what;
    t.where = site;
    return t;
  }
};
inline const use_task_t use_task{};

namespace detail {

using cogo::detail::CancelNode;
using cogo::detail::Link;
using cogo::detail::WaitState;

// Whether `ctx` of an execution context is the calling worker's own io_context.
bool is_worker_io_context(const boost::asio::execution_context& ctx) noexcept;
// Whether `ctx` is the io_context of a scheduler that ended with sockets still open on it.
bool is_stopped_io_context(const boost::asio::execution_context& ctx) noexcept;

// Counts operations in flight (for metrics and leak checks).
void count_pending(int delta) noexcept;

// The part of a cancellable operation that outlives its frame: the cancellation signal,
// emitted on the operation's io_context only while the operation is pending, and the
// registration on the context. Owned by the operation and by a queued emit, counted.
class CancelBlock final : public Link {
 public:
  template <class Executor>
  CancelBlock(CancelNode* node, const Executor& ex) : node_(node), post_(&post_emit<Executor>) {
    static_assert(sizeof(Executor) <= sizeof(ex_storage_) && alignof(Executor) <= alignof(std::max_align_t),
                  "an I/O executor this large is not supported");
    new (&ex_storage_) Executor(ex);
    destroy_ex_ = [](void* p) noexcept { static_cast<Executor*>(p)->~Executor(); };
    notify = &on_done;
  }
  ~CancelBlock() { destroy_ex_(&ex_storage_); }
  CancelBlock(const CancelBlock&) = delete;
  CancelBlock& operator=(const CancelBlock&) = delete;

  boost::asio::cancellation_slot slot() noexcept { return signal_.slot(); }
  // Registers on the context; false if it is done already.
  bool subscribe() noexcept { return node_->subscribe(this); }
  // On the operation's io_context, when the operation completes: no emit after this.
  void finish() noexcept {
    pending_ = false;
    if (node_->unsubscribe(this)) release();  // the registration's reference
    release();                                 // the operation's
  }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // On the operation's io_context, while it is pending.
  void emit_now() noexcept {
    if (pending_) signal_.emit(boost::asio::cancellation_type::terminal);
  }

 private:
  static void on_done(Link* self, CancelNode& /*source*/) noexcept {
    auto* b = static_cast<CancelBlock*>(self);
    // The registration's reference goes to the emit; on the operation's own io_context
    // (emitting from another thread races the operation in Asio 1.81).
    b->post_(b);
  }
  template <class Executor>
  static void post_emit(CancelBlock* b) noexcept {
    try {
      boost::asio::post(*reinterpret_cast<Executor*>(&b->ex_storage_), [b] {
        if (b->pending_) b->signal_.emit(boost::asio::cancellation_type::terminal);
        b->release();
      });
    } catch (...) {
      b->release();  // out of memory: the operation is not cancelled; it ends on its own
    }
  }

  std::atomic<int> refs_{2};  // the operation's, the registration's
  bool pending_ = true;       // on the operation's io_context only
  CancelNode* node_;
  boost::asio::cancellation_signal signal_;
  void (*post_)(CancelBlock*) noexcept;
  void (*destroy_ex_)(void*) noexcept;
  alignas(std::max_align_t) unsigned char ex_storage_[64];
};

// co_await of an Asio operation with use_task. Signature void(error_code, Results...).
template <class Initiation, class Args, class... Results>
class TaskOp {
 public:
  using result_type = std::tuple<boost::system::error_code, Results...>;

  TaskOp(Initiation init, use_task_t token, Args args)
      : init_(std::move(init)), token_(std::move(token)), args_(std::move(args)) {}
  // Moving is for handing the awaitable over before it is awaited.
  TaskOp(TaskOp&& o) : init_(std::move(o.init_)), token_(std::move(o.token_)), args_(std::move(o.args_)) {}
  TaskOp(const TaskOp&) = delete;
  TaskOp& operator=(const TaskOp&) = delete;

  bool await_ready() const noexcept { return false; }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    // One-shot: a second co_await would start another operation on a WaitState that
    // still says "woken" from the first (and on moved-from arguments).
    if (std::exchange(awaited_, true)) {
      throw cogo::usage_error("cogo::asio: an I/O awaitable was co_awaited twice");
    }
    ws_.begin(h);
    ws_.single = true;
    // The operation may complete on another worker before this function returns: that
    // worker then leaves the resumption to park() below.
    ws_.deferred_wake = true;
    cogo::detail::note_wait(cogo::detail::WaitReason::io_wait, token_.where, token_.detail);
    count_pending(1);
    if constexpr (requires(Initiation& i) { i.get_executor(); }) {
      auto ex = init_.get_executor();
      if (CancelNode* node = token_.ctx.node()->done_source()) {
        cancel_ = new CancelBlock(node, ex);
        // Done already: no registration; start() cancels the operation as it starts.
        if (!cancel_->subscribe()) cancel_->release();
      }
      auto& owner = boost::asio::query(ex, boost::asio::execution::context);
      if (is_worker_io_context(owner)) {
        start();
      } else if (is_stopped_io_context(owner)) {
        // Its scheduler has ended (see orphan_io_objects): nobody would run the start.
        // Ends here, as an operation on a closed socket, without starting. (One whose
        // results cannot be made so is started here, and its completion never runs.
        // Every Conn operation's can; Listener::accept checks its closed flag first.)
        if (!abort_unstarted()) start();
      } else {
        // Another worker's: hand the start to the owner, which runs its I/O objects.
        boost::asio::post(ex, [this] { start(); });
      }
    } else {
      start();  // no executor to ask: started here
    }
    return ws_.park();  // the last touch of the frame
  }

  result_type await_resume() {
    if (ws_.handle) cogo::detail::note_running(ws_.task);
    return std::move(*result_);
  }

 private:
  struct Handler {
    TaskOp* op;
    using cancellation_slot_type = boost::asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return op->cancel_ != nullptr ? op->cancel_->slot() : cancellation_slot_type();
    }
    void operator()(boost::system::error_code ec, Results... r) {
      op->result_.emplace(ec, std::move(r)...);
      op->finish();
    }
  };

  // Completes with operation_aborted without starting, where the results can be made
  // without the operation: empty values, or an unopened socket (an accept's) on the
  // operation's executor or on the executor given as its first argument (an accept into
  // another io_context). False if they cannot be made.
  bool abort_unstarted() {
    if constexpr ((std::is_default_constructible_v<Results> && ...)) {
      Handler{this}(boost::asio::error::operation_aborted, Results{}...);
      return true;
    } else {
      if constexpr (requires(Initiation& i) { i.get_executor(); }) {
        using Ex = decltype(init_.get_executor());
        if constexpr ((std::is_constructible_v<Results, const Ex&> && ...)) {
          const Ex ex = init_.get_executor();
          Handler{this}(boost::asio::error::operation_aborted, Results(ex)...);
          return true;
        }
      }
      if constexpr (std::tuple_size_v<Args> > 0) {
        using First = std::tuple_element_t<0, Args>;
        if constexpr ((std::is_constructible_v<Results, First&> && ...)) {
          Handler{this}(boost::asio::error::operation_aborted, Results(std::get<0>(args_))...);
          return true;
        }
      }
      return false;
    }
  }

  // On the operation's io_context (or here, with no executor to ask).
  void start() {
    // Done already: not started at all. Started, a reactor operation may complete at
    // once (its speculative read, write or accept), moving bytes or taking a waiting
    // connection on a context that is done.
    if (cancel_ != nullptr && token_.ctx.is_done() && abort_unstarted()) return;
    std::apply([this](auto&&... a) { std::move(init_)(Handler{this}, std::move(a)...); },
               std::move(args_));
    // A context done before the start of an operation whose results have no empty value
    // (an accept's socket), or as it starts (its emit, if queued before this, had nothing
    // to cancel), cancels the operation now, which completes it with operation_aborted.
    if (cancel_ != nullptr && token_.ctx.is_done()) cancel_->emit_now();
  }
  void finish() noexcept {
    if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->finish();
    count_pending(-1);
    ws_.wake();  // last touch of the frame
  }

  Initiation init_;
  use_task_t token_;
  Args args_;
  CancelBlock* cancel_ = nullptr;
  std::optional<result_type> result_;
  bool awaited_ = false;
  WaitState ws_;
};

}  // namespace detail
}  // namespace cogo::asio

// Asio's hook: an operation given use_task returns a TaskOp to co_await.
template <class... Results>
struct boost::asio::async_result<cogo::asio::use_task_t, void(boost::system::error_code, Results...)> {
  template <class Initiation, class... Args>
  static auto initiate(Initiation&& init, cogo::asio::use_task_t token, Args&&... args) {
    using Op = cogo::asio::detail::TaskOp<std::decay_t<Initiation>, std::tuple<std::decay_t<Args>...>,
                                          std::decay_t<Results>...>;
    return Op(std::forward<Initiation>(init), std::move(token),
              std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...));
  }
};
