#include <cogo/context.hpp>
#include <iostream>

int main() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  std::cout << ctx.err() << "\n";
  return ctx.is_done() ? 0 : 1;
}
