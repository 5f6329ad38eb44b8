// Cancel tracing: every context cancellation counted by origin, and an optional hook
//
// Each cancellation that a context's own cancel or deadline causes (its origin; the
// descendants it reaches are not counted again) is counted by its site (where cancel
// was called, or where the deadline was set) and its code (canceled or
// deadline_exceeded). diag::snapshot() (cogo/metrics.hpp) reports the counts.
//
// diag::on_cancel(hook) installs one process-wide hook that receives every such
// cancellation with its error, its cause, its site and the context's describe(): the
// one place to log who cancelled a request and why. It runs on the thread that
// cancelled (for a deadline, the worker that ran the timer), after the cancel has
// finished and with no cogo lock held; it must not throw. on_cancel({}) removes it.
//
// Cost: counting is a few nanoseconds per cancel, with no lock and no allocation after
// a site's first cancel on a thread; without a hook, nothing else is done.
// Thread safety: on_cancel and cancel_counts may be called from any thread; a hook that
// is replaced may still be running on another thread for a moment.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cogo/error.hpp"

namespace cogo::diag {

struct CancelEvent {
  const Error& err;            // context canceled / deadline exceeded, with its site
  const Error& cause;          // the cause (err itself when none was given)
  source_location site;        // where the cancel was requested, or the deadline set
  std::string_view context;    // describe() of the cancelled context
};

using CancelHook = std::function<void(const CancelEvent&)>;

// Installs `hook` (replacing any earlier one); an empty hook removes it.
void on_cancel(CancelHook hook);

struct CancelCount {
  std::string file;
  std::uint32_t line = 0;
  std::string function;
  std::string code;  // "canceled" or "deadline_exceeded"
  std::uint64_t count = 0;
};

// Cancellations so far, by (site, code), largest first.
std::vector<CancelCount> cancel_counts();

}  // namespace cogo::diag
