// A Key<int> accepts only values an int can be made from.
// expect-error: no matching function|constraints not satisfied
#include <string>

#include "cogo/context.hpp"

inline const cogo::Key<int> answer{"answer"};

int main() {
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto ctx = cogo::with_value(cogo::background(), answer, 42);
#else
  auto ctx = cogo::with_value(cogo::background(), answer, std::string("forty-two"));
#endif
  (void)ctx;
}
