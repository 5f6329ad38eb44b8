// A request's values flow down a chain of calls: handle -> f1 -> f2 -> f3. Each layer adds
// a value; the innermost reads all of them. Keys are typed objects, so two packages
// cannot collide even with the same name.
#include <cogo/context.hpp>

#include <iostream>
#include <string>

namespace {

const cogo::Key<std::string> value0{"value0"};
const cogo::Key<int> value1{"value1"};
const cogo::Key<double> value2{"value2"};

void f3(const cogo::Context& ctx) {
  std::cout << "f3 reads value0=" << *ctx.value(value0) << " value1=" << *ctx.value(value1)
            << " value2=" << *ctx.value(value2) << "\n";
  std::cout << "f3's context: " << ctx << "\n";
}

void f2(const cogo::Context& ctx) { f3(cogo::with_value(ctx, value2, 2.5)); }

void f1(const cogo::Context& ctx) { f2(cogo::with_value(ctx, value1, 1)); }

void handle(const cogo::Context& request) {
  auto [ctx, cancel] = cogo::with_cancel(request);  // cancelled when handle returns
  f1(cogo::with_value(ctx, value0, std::string("request-17")));
}

}  // namespace

int main() {
  std::cout << "== value chain: typed context values; the innermost binding of a key wins ==\n";
  handle(cogo::background());
}
