#include "cogo/sync/single_flight.hpp"

namespace cogo::detail {

void FlightCall::finish_locked(List& woken) noexcept {
  done_ = true;  // callers that joined and have not queued yet see it when they poll
  while (ListWaiter* w = dequeue_claimable(waiters_)) woken.push_back(w);
}

}  // namespace cogo::detail
