// Go's TestInvalidDerivedFail: there is no null context to derive from.
// expect-error: invalid initialization of reference|no matching function|no viable|cannot convert|could not bind
#include "cogo/context.hpp"

int main() {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto [ctx, cancel] = cogo::with_cancel(cogo::Context());
#else
  auto [ctx, cancel] = cogo::with_cancel(nullptr);
#endif
  (void)ctx;
}
