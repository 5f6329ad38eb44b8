// Intrusive doubly-linked list with a sentinel. Internal.
//
// Not thread-safe: every list is guarded by the lock of the object that owns it.
#pragma once

namespace cogo::detail {

struct ListNode {
  ListNode* prev = nullptr;
  ListNode* next = nullptr;

  // True while the node is in some list.
  bool linked() const noexcept { return next != nullptr; }
};

class List {
 public:
  List() noexcept { head_.prev = head_.next = &head_; }
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool empty() const noexcept { return head_.next == &head_; }

  void push_back(ListNode* n) noexcept {
    n->prev = head_.prev;
    n->next = &head_;
    head_.prev->next = n;
    head_.prev = n;
  }

  // Requires: n is in this list.
  static void remove(ListNode* n) noexcept {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
  }

  ListNode* pop_front() noexcept {
    if (empty()) return nullptr;
    ListNode* n = head_.next;
    remove(n);
    return n;
  }

  ListNode* front() const noexcept { return empty() ? nullptr : head_.next; }
  // The node after n in this list, or null at its end.
  ListNode* next_of(const ListNode* n) const noexcept { return n->next == &head_ ? nullptr : n->next; }

  template <class F>
  void for_each(F&& f) const {
    for (ListNode* n = head_.next; n != &head_; n = n->next) f(n);
  }

 private:
  ListNode head_;
};

}  // namespace cogo::detail
