// ErrGroup::go accepts callables returning Task<Error>, Task<>, Error or void. A
// Task<int> would be discarded unawaited, its work never run, and wait() would report
// success: it is refused at compile time with a message naming the accepted types.
// expect-error: ErrGroup::go: f must return
#include "cogo/errgroup.hpp"

int main() {
  cogo::ErrGroup g;
#if defined(COGO_COMPILE_FAIL_CONTROL)
  auto f = []() -> cogo::Task<cogo::Error> { co_return cogo::Error(); };
#else
  auto f = []() -> cogo::Task<int> { co_return 1; };
#endif
  g.go(f);
  g.go("named", f);
}
