// RunItem: what a scheduler queues. Internal.
//
// Every unit of work a scheduler runs is an intrusive node owned by whoever queues it:
// the WaitState of a woken wait (in the waiting frame), the start of a new task (in its
// promise), a yield (in the yielding frame), a callback (a Runnable in its registration).
// Queueing therefore never allocates, so no wake-up can fail for want of memory.
//
// An item is in at most one queue at a time: it is queued once per wake-up, and the
// scheduler reads it before it runs it, after which the owner may reuse or free it.
// Sixteen bytes: every parked task holds one in its frame.
#pragma once

#include <coroutine>

namespace cogo::detail {

struct RunItem {
  RunItem* next_item = nullptr;   // link in a scheduler's global queue (when it overflows)
  // The coroutine to resume; null for a callback, which is then a Runnable (executor.hpp).
  std::coroutine_handle<> handle;
};

}  // namespace cogo::detail
