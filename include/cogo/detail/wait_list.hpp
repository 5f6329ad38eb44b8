// Waiters queued on a lock-guarded list, and a select case over them. Internal.
#pragma once

#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/runtime.hpp"

namespace cogo::detail {

// A party queued on some object's wait list. Lives in the waiting frame.
struct ListWaiter : ListNode {
  WaitState* ws = nullptr;
  int index = 0;  // which case of ws this is
};

// Takes the first waiter of `q` whose wait can still be claimed, claiming it; waiters of
// selects that another case already won are dropped on the way.
template <class W = ListWaiter>
W* dequeue_claimable(List& q) noexcept {
  while (ListNode* n = q.pop_front()) {
    auto* w = static_cast<W*>(n);
    if (w->ws->try_claim(w->index)) return w;
  }
  return nullptr;
}

// Wakes every waiter collected in `woken`.
inline void wake_all(List& woken) noexcept {
  while (ListNode* n = woken.pop_front()) static_cast<ListWaiter*>(n)->ws->wake();
}

// A case that waits on Owner's list until Owner::try_take_locked() succeeds. Owner
// provides: Lock& wait_lock(); List& wait_list(); bool try_take_locked() noexcept; and
// optionally void waiter_left_locked(List& woken) noexcept, called under the lock when a
// waiter leaves the list unserved (a select that another case won), which may hand what
// the leaver blocked to other waiters by moving them, claimed, into `woken`: they are
// woken once the lock is released.
template <class Owner, WaitReason Reason>
class ListCase {
 public:
  using result_type = bool;  // always true once it wins

  ListCase(Owner* o, source_location site) noexcept : o_(o), site_(site) {}
  ListCase(ListCase&& c) noexcept : o_(c.o_), site_(c.site_) {}

  Lock* lock() noexcept { return &o_->wait_lock(); }
  bool poll(WaitState&, int) noexcept { return o_->try_take_locked(); }
  void enqueue(WaitState& ws, int index) noexcept {
    waiter_.ws = &ws;
    waiter_.index = index;
    o_->wait_list().push_back(&waiter_);
  }
  void dequeue() noexcept {
    if (!waiter_.linked()) return;
    List::remove(&waiter_);
    if constexpr (requires(List& l) { o_->waiter_left_locked(l); }) o_->waiter_left_locked(woken_);
  }
  void settle() noexcept { wake_all(woken_); }
  void after_unlock() noexcept {}
  result_type result() noexcept { return true; }
  WaitReason reason() const noexcept { return Reason; }
  const source_location& site() const noexcept { return site_; }

 private:
  Owner* o_;
  source_location site_;
  ListWaiter waiter_;
  List woken_;  // waiters that this one's leaving let in
};

}  // namespace cogo::detail
