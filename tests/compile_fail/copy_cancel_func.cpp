// A CancelFunc is move-only: one owner cancels on destruction.
// expect-error: use of deleted function|deleted
#include <utility>

#include "cogo/context.hpp"

int main() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
#if defined(COGO_COMPILE_FAIL_CONTROL)
  cogo::CancelFunc other = std::move(cancel);
#else
  cogo::CancelFunc other = cancel;
#endif
  other();
}
