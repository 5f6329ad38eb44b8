// ctx.done() as an awaitable and a select case. Internal.
#pragma once

#include <atomic>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/error.hpp"

namespace cogo::detail {

// Pauses the calling thread briefly; for waiting out a notification already running.
void spin_pause() noexcept;

// Listed in the context's done source while a wait is registered.
struct DoneLink : Link {
  WaitState* ws = nullptr;
  int index = 0;
  // Set when the canceller is done with this link: a wait that lost the link to the
  // canceller waits for it before its frame may go.
  std::atomic<bool> notified{false};

  DoneLink() noexcept {
    notify = [](Link* self, CancelNode&) noexcept {
      auto* l = static_cast<DoneLink*>(self);
      WaitState* waiter = l->ws;
      const bool won = waiter->try_claim(l->index);
      // Last touch of the link: once woken, the waiting frame may be resumed and freed.
      l->notified.store(true, std::memory_order_release);
      if (won) waiter->wake();
    };
  }
};

class DoneCase {
 public:
  using result_type = Error;

  DoneCase(CancelNode* n, source_location site) noexcept : n_(n), site_(site) {}
  DoneCase(DoneCase&& o) noexcept : n_(o.n_), site_(o.site_) {}

  Lock* lock() noexcept { return n_ != nullptr ? &n_->wait_lock() : nullptr; }
  bool poll(WaitState&, int) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    return n_ != nullptr && n_->done_locked();
  }
  void enqueue(WaitState& ws, int index) noexcept COGO_NO_THREAD_SAFETY_ANALYSIS {
    if (n_ == nullptr) return;  // never done: never fires
    link_.ws = &ws;
    link_.index = index;
    n_->push_link_locked(&link_);
    enqueued_ = true;
  }
  void dequeue() noexcept {
    if (link_.linked()) {
      List::remove(&link_);
    } else if (enqueued_) {
      settle_ = true;  // the canceller has it
    }
  }
  void settle() noexcept {
    if (!settle_) return;
    while (!link_.notified.load(std::memory_order_acquire)) spin_pause();
  }
  void after_unlock() noexcept {}
  // The context is done when this case wins.
  result_type result() noexcept { return n_->err(); }
  WaitReason reason() const noexcept { return WaitReason::context_done; }
  const source_location& site() const noexcept { return site_; }

  auto operator co_await() && noexcept { return SingleAwaiter<DoneCase>(std::move(*this)); }

 private:
  CancelNode* n_;
  source_location site_;
  DoneLink link_;
  bool enqueued_ = false;
  bool settle_ = false;
};

}  // namespace cogo::detail
