// after_func calls f and drops its result; a coroutine lambda's Task would be dropped
// unstarted and its body never run, so it is refused.
// expect-error: after_func: f returns a cogo::Task
#include "cogo/context.hpp"
#include "cogo/task.hpp"

int main() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto stop = cogo::after_func(ctx, [] { cogo::go([]() -> cogo::Task<> { co_return; }); });
#else
  auto stop = cogo::after_func(ctx, []() -> cogo::Task<> { co_return; });
#endif
}
