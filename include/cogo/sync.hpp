// Synchronisation for tasks: every header of cogo's sync family at once. Each primitive
// suspends the waiting task, never the worker thread, and is usable from plain threads
// through sync_wait. See each header for its contract.
#pragma once

#include "cogo/sync/cond.hpp"                // IWYU pragma: export
#include "cogo/sync/event.hpp"               // IWYU pragma: export
#include "cogo/sync/mutex.hpp"               // IWYU pragma: export
#include "cogo/sync/once.hpp"                // IWYU pragma: export
#include "cogo/sync/rate_limiter.hpp"        // IWYU pragma: export
#include "cogo/sync/rw_mutex.hpp"            // IWYU pragma: export
#include "cogo/sync/semaphore.hpp"           // IWYU pragma: export
#include "cogo/sync/single_flight.hpp"       // IWYU pragma: export
#include "cogo/sync/wait_group.hpp"          // IWYU pragma: export
#include "cogo/sync/weighted_semaphore.hpp"  // IWYU pragma: export
