// One root context feeds four consumers, each on its own thread:
//   A uses the root directly,
//   B uses a cancel child of the root,
//   C uses a value child of the root,
//   D uses a cancel child of a value child.
// Cancelling the root stops all four; each prints why and where.
#include <cogo/context.hpp>

#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

const cogo::Key<std::string> consumer{"consumer"};
std::mutex out_mu;

void consume(const std::string& name, const cogo::Context& ctx) {
  ctx.wait();  // a real consumer would do work until then
  std::lock_guard g(out_mu);
  std::cout << name << " stopped: " << ctx.err() << "\n"
            << "   cause: " << cogo::cause(ctx) << "\n"
            << "   context: " << ctx << "\n";
}

}  // namespace

int main() {
  std::cout << "== cancel tree: cancelling a parent cancels its whole subtree, and each says why ==\n";
  auto [root, cancel_root] = cogo::with_cancel_cause(cogo::background());
  auto [b, cancel_b] = cogo::with_cancel(root);
  auto c = cogo::with_value(root, consumer, std::string("C"));
  auto [d, cancel_d] = cogo::with_cancel(cogo::with_value(root, consumer, std::string("D")));

  std::vector<std::thread> threads;
  threads.emplace_back(consume, "A (root)", root);
  threads.emplace_back(consume, "B (cancel child)", b);
  threads.emplace_back(consume, "C (value child)", c);
  threads.emplace_back(consume, "D (cancel child of a value child)", d);

  cancel_root(cogo::Error("shutting down"));
  for (auto& t : threads) t.join();
}
