// A co_await ch.send(v) whose result is ignored hides a value that was never delivered
// (the channel closed). Only compilers that honour [[nodiscard]] on await_resume reject
// it (clang; g++ 12 does not), so tests/CMakeLists.txt runs this case with clang only.
// expect-error: ignoring return value|nodiscard
#include "cogo/chan.hpp"
#include "cogo/task.hpp"

cogo::Task<> produce(cogo::Chan<int> ch) {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  (void)co_await ch.send(1);
#else
  co_await ch.send(1);
#endif
}

int main() { (void)produce(cogo::make_chan<int>(1)); }
