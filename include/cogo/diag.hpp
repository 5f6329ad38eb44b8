// cogo::diag: every diagnostics header of the cogo::diag target at once.
//
//   cogo/diag/tasks.hpp         the task registry and its dumps (Go's goroutine?debug=1|2)
//   cogo/diag/leak_check.hpp    tasks, timers and contexts left behind
//   cogo/diag/cancel_trace.hpp  who cancels, counted by origin; a hook per cancellation
//   cogo/diag/metrics.hpp       the runtime's figures, and their Prometheus text
//   cogo/diag/trace.hpp         an execution trace in Chrome trace JSON
#pragma once

#include "cogo/diag/cancel_trace.hpp"  // IWYU pragma: export
#include "cogo/diag/leak_check.hpp"    // IWYU pragma: export
#include "cogo/diag/metrics.hpp"       // IWYU pragma: export
#include "cogo/diag/tasks.hpp"         // IWYU pragma: export
#include "cogo/diag/trace.hpp"         // IWYU pragma: export
