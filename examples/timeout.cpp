// A slow operation bounded by a timeout. The error says it was a deadline, where the
// deadline was set and how long it was.
#include <cogo/context.hpp>

#include <chrono>
#include <iostream>

namespace {

using namespace std::chrono_literals;

// Pretends to call a backend that takes `latency`; gives up when ctx is done.
cogo::Error call_backend(const cogo::Context& ctx, std::chrono::milliseconds latency) {
  if (ctx.wait_for(latency)) return ctx.err();  // done first: give up
  return {};
}

}  // namespace

int main() {
  std::cout << "== timeout: a deadline ends the work, and the error says where it was set and how long ==\n";
  auto [ctx, cancel] = cogo::with_timeout(cogo::background(), 50ms);
  std::cout << "deadline set: " << ctx << "\n";
  if (cogo::Error err = call_backend(ctx, 20ms); !err) std::cout << "fast call: ok\n";
  if (cogo::Error err = call_backend(ctx, 500ms)) {
    std::cout << "slow call: " << err << "\n";
    std::cout << "   timeout? " << (err.is_timeout() ? "yes" : "no") << "\n";
    std::cout << "   context: " << ctx << "\n";
  }
}
