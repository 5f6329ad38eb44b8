// Once::call runs its callable inline; a coroutine lambda would return a Task that is
// dropped unstarted while the Once reports itself done, so it is refused.
// expect-error: Once::call: f returns a cogo::Task
#include "cogo/sync/once.hpp"
#include "cogo/task.hpp"

cogo::Task<> init(cogo::Once& once) {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  co_await once.call([] {});
#else
  co_await once.call([]() -> cogo::Task<> { co_return; });
#endif
}

int main() {
  cogo::Once once;
  cogo::sync_wait(init(once));
}
