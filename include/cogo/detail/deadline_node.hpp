// A cancelable node that also cancels itself at a deadline. Internal.
#pragma once

#include <cstdint>

#include "cogo/detail/context_node.hpp"
#include "cogo/detail/timer_service.hpp"

namespace cogo::detail {

class DeadlineNode final : public CancelNode, private TimerEntry {
 public:
  // A child of `parent` (adopted reference) due at `deadline_ns` on `svc`'s clock, with
  // two references (the context and the cancel function).
  DeadlineNode(Node* parent, std::int64_t deadline_ns, std::int64_t timeout_ns, Error cause,
               source_location site, TimerService& svc);
  ~DeadlineNode() override;

  // Arms the timer unless the node is already done or due at the end of time (kEndOfTime),
  // which never comes.
  void arm();
  // Cancels with deadline_exceeded.
  void expire() noexcept;
  void describe_self(std::string& out) const override;
  // The node whose armed deadline `e` is; for leak reports.
  static const DeadlineNode* of(const TimerEntry* e) noexcept {
    return static_cast<const DeadlineNode*>(e);
  }

 private:
  friend class CancelNode;
  friend void fire_deadline(TimerEntry* e, std::uint32_t gen, std::int64_t when) noexcept;
  void disarm_locked() noexcept COGO_REQUIRES(mu_);

  TimerService* svc_;  // a strong reference
  std::int64_t timeout_ns_;
  Error deadline_cause_;
  bool armed_ COGO_GUARDED_BY(mu_) = false;
};

}  // namespace cogo::detail
