// go(callable) takes only callables that return a cogo::Task: anything else (here a
// type that merely has a release() member) is refused by overload resolution instead of
// failing deep inside the runtime.
// expect-error: no matching function for call to .*go\(
#include <memory>

#include "cogo/task.hpp"

int main() {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto f = []() -> cogo::Task<> { co_return; };
#else
  auto f = [] { return std::make_unique<int>(1); };
#endif
  cogo::go(f);
  cogo::go("named", f);
}
