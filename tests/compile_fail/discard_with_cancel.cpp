// Discarding with_cancel's result would cancel the new context at once and lose it.
// expect-error: ignoring return value|nodiscard
#include "cogo/context.hpp"

int main() {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  (void)ctx;
#else
  cogo::with_cancel(cogo::background());
#endif
}
