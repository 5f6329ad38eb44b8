// Go's TestWithValueChecksKey: keys must be typed Key objects, never strings.
// expect-error: no matching function|constraints not satisfied
#include <string>

#include "cogo/context.hpp"

inline const cogo::Key<std::string> foo{"foo"};

int main() {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto ctx = cogo::with_value(cogo::background(), foo, "bar");
#else
  auto ctx = cogo::with_value(cogo::background(), "foo", "bar");
#endif
  (void)ctx;
}
