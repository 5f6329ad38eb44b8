// CustomContext, make_context
//
// The extension point for contexts whose cancellation comes from outside cogo: a gRPC
// server call, a connection, a signal. Derive from CustomContext, create the context with
// make_context<T>(args...), and call cancel() from the foreign source's own callback.
//
// A custom context is cancelable like with_cancel's: it is cancelled with its parent, its
// children and after_func callbacks register with it directly, and no thread or task ever
// watches it. Override describe_self() to name it (the default prints the name given to
// the constructor, like Go prints a custom context's type name) and find_value() to serve
// values of its own.
//
// Thread safety: cancel() is safe from any thread at once; the first cancel wins.
// Lifetime: make_context returns an owning Ref; context() returns a Context sharing it.
// Example:
//   class CallContext : public cogo::CustomContext {
//    public:
//     explicit CallContext(const cogo::Context& parent) : CustomContext(parent, "rpc.Call") {}
//     void on_peer_gone(cogo::Error why) { cancel(std::move(why)); }
//   };
//   auto call = cogo::make_context<CallContext>(parent);
//   handle(call->context());
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <utility>

#include "cogo/context.hpp"
#include "cogo/detail/ref.hpp"

namespace cogo {

template <class T>
using Ref = detail::Ref<T>;

class CustomContext : public detail::CancelNode {
 public:
  // A Context sharing this node.
  Context context() noexcept {
    add_ref();
    return Context::adopt(this);
  }

  // Appends the name given to the constructor.
  void describe_self(std::string& out) const override;

 protected:
  // A context named `name`, child of `parent`; its deadline is the parent's.
  explicit CustomContext(const Context& parent, std::string_view name = "cogo.Custom",
                         source_location where = source_location::current());
  // The same with its own deadline, if earlier than the parent's. The deadline is
  // reported by deadline(); cancelling at the deadline is the implementer's to do.
  CustomContext(const Context& parent, std::string_view name, Context::clock::time_point deadline,
                source_location where = source_location::current());
  ~CustomContext() override;

  // Cancels this context and its subtree, recording `cause` (if any) and the site.
  // Returns false if it was already done.
  bool cancel(Error cause = {}, source_location where = source_location::current()) noexcept;

  // Values of this context: return {true, pointer} for a key it binds. The default binds
  // nothing; lookups continue with the parent.
  detail::ValueHit find_value(const KeyBase* key) const noexcept override;

 private:
  template <class T, class... A>
    requires std::derived_from<T, CustomContext>
  friend Ref<T> make_context(A&&... args);

  std::string name_;
};

template <class T, class... A>
  requires std::derived_from<T, CustomContext>
Ref<T> make_context(A&&... args) {
  Ref<T> r = Ref<T>::adopt(new T(std::forward<A>(args)...));
  static_cast<CustomContext*>(r.get())->attach();
  return r;
}

}  // namespace cogo
