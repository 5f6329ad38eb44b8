// A try_send whose result is ignored hides a value that was never sent.
// expect-error: ignoring return value|nodiscard
#include "cogo/chan.hpp"

int main() {
  auto ch = cogo::make_chan<int>(1);
#if defined(COGO_COMPILE_FAIL_CONTROL)
  const bool sent = ch.try_send(1);
  (void)sent;
#else
  ch.try_send(1);
#endif
}
