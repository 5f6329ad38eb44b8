// A consumer of an installed cogo: the core and the diagnostics, with sites printed
// relative to this project (cogo_relative_sites).
#include <cogo/context.hpp>
#include <cogo/diag/metrics.hpp>
#include <iostream>

int main() {
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  cancel();
  std::cout << ctx.err() << "\n";
  const auto figures = cogo::diag::snapshot();
  return ctx.is_done() && !figures.cancellations.empty() ? 0 : 1;
}
