// An execution trace of tasks and contexts, in Chrome's trace-event JSON
//
// diag::trace::start() begins recording, into one buffer per thread: each task's start
// (an instant event), every stretch it runs on a worker (a begin/end pair on that
// worker's track; the end carries why it stopped: the wait reason, "yield" or
// "finished"), and each context cancellation (an instant event with its site and code).
// stop() ends recording; write_json() writes what was recorded as a JSON object with a
// "traceEvents" array that chrome://tracing and Perfetto's viewer (ui.perfetto.dev)
// open. Every event has a phase, a timestamp in microseconds, a pid and a tid; every
// begin has its end (a stretch still running at stop() ends there).
//
// Cost: one relaxed atomic load per task resume and suspend while not recording; while
// recording, an uncontended lock and a small copy per event.
// Thread safety: every function may be called from any thread. start() clears what an
// earlier recording left.
#pragma once

#include <cstddef>
#include <iosfwd>

namespace cogo::diag::trace {

void start();
void stop();
bool recording() noexcept;
// Writes the recorded events; call after stop() (while recording it writes what has
// been recorded so far, ending open stretches at the current time).
void write_json(std::ostream& os);
// Events recorded since start().
std::size_t event_count();

}  // namespace cogo::diag::trace
