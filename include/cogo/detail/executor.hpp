// Where cogo runs callbacks that must not run on the stack of the thread that triggered
// them (context after_func callbacks, timer after_func callbacks). Internal.
#pragma once

namespace cogo::detail {

// A unit of work queued intrusively: no allocation to post it.
struct Runnable {
  Runnable* next_runnable = nullptr;
  // Runs the work and releases whatever the queue held; called exactly once.
  void (*run)(Runnable* self) noexcept = nullptr;
};

// Runs r->run(r) soon, on cogo's executor, never on the caller's stack.
void post(Runnable* r) noexcept;

// Number of runnables posted and not yet finished; for tests and diagnostics.
long executor_pending() noexcept;

}  // namespace cogo::detail
