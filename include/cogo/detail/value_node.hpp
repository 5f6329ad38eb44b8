// Value nodes: one key bound to one value. Internal.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/format.hpp"

namespace cogo::detail {

// Go's rule for printing a context value: a string as it is, a type that says how to
// print itself (here: a to_string() found by ADL or a member), else the type's name.
// Other values are not printed, so that descriptions in logs do not leak request data.
template <class T>
void append_context_value(std::string& out, const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out += std::string_view(v);
  } else if constexpr (requires { { v.to_string() } -> std::convertible_to<std::string_view>; }) {
    out += std::string_view(v.to_string());
  } else if constexpr (requires { { to_string(v) } -> std::convertible_to<std::string_view>; }) {
    out += std::string_view(to_string(v));
  } else {
    out += type_name<T>();
  }
}

template <class T>
class ValueNode final : public ValueNodeBase {
 public:
  template <class V>
  ValueNode(Node* parent, const KeyBase* key, V&& v) : ValueNodeBase(parent, key), v_(std::forward<V>(v)) {
    set_value(&v_);
  }

 protected:
  void append_value(std::string& out) const override { append_context_value(out, v_); }

 private:
  T v_;
};

// A key bound to nothing: shadows outer bindings of the key (Go's WithValue(ctx, k, nil)).
class NilValueNode final : public ValueNodeBase {
 public:
  NilValueNode(Node* parent, const KeyBase* key) noexcept : ValueNodeBase(parent, key) {}

 protected:
  void append_value(std::string& out) const override { out += "<nil>"; }
};

}  // namespace cogo::detail
