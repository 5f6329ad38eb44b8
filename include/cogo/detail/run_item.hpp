// RunItem: what a scheduler queues. Internal.
//
// Every unit of work a scheduler runs is an intrusive node owned by whoever queues it:
// the WaitState of a woken wait (in the waiting frame), the start of a new task (in its
// promise), a yield (in the yielding frame), a callback (a Runnable in its registration).
// Queueing therefore never allocates, so no wake-up can fail for want of memory.
//
// An item is in at most one queue at a time: it is queued once per wake-up, and the
// scheduler reads `handle` or `fn` before it runs the item, after which the owner may
// reuse or free it.
#pragma once

#include <coroutine>

namespace cogo::detail {

struct RunItem {
  RunItem* next_item = nullptr;   // link in a scheduler's global queue
  std::coroutine_handle<> handle;  // the coroutine to resume; null for a callback
  // A callback: runs the work and releases whatever the queue held. Called exactly once
  // per queueing, when `handle` is null.
  void (*fn)(RunItem* self) noexcept = nullptr;
};

}  // namespace cogo::detail
