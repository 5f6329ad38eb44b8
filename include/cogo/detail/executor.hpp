// Where cogo runs callbacks that must not run on the stack of the thread that triggered
// them (context after_func callbacks, timer after_func callbacks): the current
// scheduler, or the default one. Internal.
#pragma once

#include "cogo/detail/config.hpp"

namespace cogo::detail {

// A unit of work queued intrusively: no allocation to post it.
struct Runnable {
  // Runs the work and releases whatever the queue held; called exactly once.
  void (*run)(Runnable* self) noexcept = nullptr;
};

// Runs r->run(r) soon on a scheduler worker, never on the caller's stack.
void post(Runnable* r) noexcept;

// Calls fn(arg). An exception escaping it is reported on stderr, naming `what` and the
// site where the callback was registered, and goes no further: a callback's failure
// must not take down the thread that runs everyone's callbacks.
void call_reporting(void (*fn)(void*), void* arg, const char* what,
                    const source_location& site) noexcept;

}  // namespace cogo::detail
