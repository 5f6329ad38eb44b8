// Helpers shared by the ports of Go's context tests. Internal to the tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "cogo/context.hpp"
#include "cogo/custom_context.hpp"

namespace cogo::test::go_context {

using namespace std::chrono_literals;
using cogo::Context;

constexpr auto kShort = 1ms;
constexpr auto kVeryLong = 1000h;
constexpr auto kQuiescent = 10s;

std::size_t children(const Context& c) {
  return static_cast<cogo::detail::CancelNode*>(c.node())->link_count();
}

// Go's otherContext: a context type that is not one of the package's own. In cogo, a
// custom node that passes everything through to its parent.
class OtherContext : public cogo::CustomContext {
 public:
  explicit OtherContext(const Context& parent) : CustomContext(parent, "context_test.otherContext") {}
};
Context other(const Context& parent) { return cogo::make_context<OtherContext>(parent)->context(); }

// Go's customCauseContext / afterFuncContext: a context cancelled from outside.
class SourceContext : public cogo::CustomContext {
 public:
  explicit SourceContext(const Context& parent = Context())
      : CustomContext(parent, "context_test.customContext") {}
  using CustomContext::cancel;
};

bool done_now(const Context& c) { return c.is_done(); }


// The keys of Go's TestValues and TestAllocs.
inline const cogo::Key<std::string> k1{"context_test.key1"};
inline const cogo::Key<std::string> k2{"context_test.key2(1)"};  // same name as k1's int, other key
inline const cogo::Key<std::string> k3{"context_test.key2(3)"};

}  // namespace cogo::test::go_context
