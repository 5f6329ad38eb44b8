// An AfterFunc handle stops its callback when destroyed; discarding it is a bug.
// expect-error: ignoring return value|nodiscard
#include "cogo/context.hpp"

int main() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto stop = cogo::after_func(ctx, [] {});
#else
  cogo::after_func(ctx, [] {});
#endif
}
