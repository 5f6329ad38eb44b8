// Where cogo runs callbacks that must not run on the stack of the thread that triggered
// them (context after_func callbacks, timer after_func callbacks): the current
// scheduler, or the default one. Internal.
#pragma once

#include <cstdint>

#include "cogo/detail/config.hpp"
#include "cogo/detail/run_item.hpp"

namespace cogo::detail {

// The scheduler whose worker runs this thread, as an id (0 on other threads, which means
// the default scheduler). Ids are never reused.
std::uint64_t current_scheduler_id() noexcept;

// A callback queued intrusively: no allocation to post it. It belongs to the scheduler
// that was current where it was made (its home), as an Asio handler belongs to its
// associated executor: post() runs it there, or on the default scheduler once its home
// is gone.
// A RunItem whose handle is null is a Runnable.
struct Runnable : RunItem {
  // Runs the work and releases whatever the queue held; called once per post().
  void (*run)(Runnable* self) noexcept = nullptr;
  std::uint64_t home = current_scheduler_id();
};

// Runs r->run(r) soon on a worker of r's home scheduler, never on the caller's stack.
void post(Runnable* r) noexcept;

// Calls fn(arg). An exception escaping it is reported on stderr, naming `what` and the
// site where the callback was registered, and goes no further: a callback's failure
// must not take down the thread that runs everyone's callbacks.
void call_reporting(void (*fn)(void*), void* arg, const char* what,
                    const source_location& site) noexcept;

}  // namespace cogo::detail
