#include "cogo/custom_context.hpp"

#include <algorithm>

#include "cogo/detail/duration.hpp"

namespace cogo {

namespace {
detail::Node* shared_node(const Context& parent) noexcept {
  detail::Node* p = parent.node();
  p->add_ref();
  return p;
}
}  // namespace

CustomContext::CustomContext(const Context& parent, std::string_view name, source_location where)
    : CancelNode(detail::NodeKind::custom, shared_node(parent), where, 1), name_(name) {
  vals_ = this;
}

CustomContext::CustomContext(const Context& parent, std::string_view name,
                             Context::clock::time_point deadline, source_location where)
    : CustomContext(parent, name, where) {
  deadline_ns_ = std::min(deadline_ns_, detail::saturating_ns(deadline.time_since_epoch()));
  has_deadline_ = true;
}

// Runs once the last reference is gone; the parent's canceller may still hold the list,
// so the node leaves it before its memory does.
CustomContext::~CustomContext() { unlink_weak(); }

void CustomContext::describe_self(std::string& out) const { out += name_; }

bool CustomContext::cancel(Error cause, source_location where) noexcept {
  return detail::cancel_at(this, std::move(cause), where);
}

detail::ValueHit CustomContext::find_value(const KeyBase* /*key*/) const noexcept {
  return {false, nullptr};
}

}  // namespace cogo
