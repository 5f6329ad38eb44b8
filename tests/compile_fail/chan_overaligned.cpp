// A channel operation keeps a T in the awaiting coroutine's frame, which g++ 12 aligns
// only to the default new alignment: an over-aligned T would be built misaligned there,
// so recv() and send() refuse it.
// expect-error: keep a T in the coroutine frame
#include "cogo/chan.hpp"
#include "cogo/task.hpp"

#if defined(COGO_COMPILE_FAIL_CONTROL)
struct alignas(16) Wide {
  int v;
};
#else
struct alignas(64) Wide {
  int v;
};
#endif

cogo::Task<> pass(cogo::Chan<Wide> ch) {
  Wide w{1};
  (void)co_await ch.send(w);
  auto got = co_await ch.recv();
  (void)got;
}

int main() { cogo::sync_wait(pass(cogo::make_chan<Wide>(1))); }
