// A fixture that runs each test at 1, 2 and 4 workers, and fails a test that leaves a
// task, an armed timer or a pending context behind it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <utility>

#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/testing.hpp"
#include "support/test_support.hpp"

namespace cogo::test {

class RuntimeTest : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override {
    baseline_ = leaks::Options().ignore_current();
    sched_ = std::make_unique<Scheduler>(SchedulerOptions{.workers = GetParam()});
  }
  void TearDown() override {
    cogo::testing::expect_no_leaks(baseline_);
    sched_.reset();
  }

  template <class A>
  decltype(auto) run(A&& awaitable) {
    return sched_->block_on(std::forward<A>(awaitable));
  }
  Scheduler& sched() { return *sched_; }

  // The number of this scheduler's tasks waiting for `reason` (any reason if none).
  std::size_t waiting(detail::WaitReason reason = detail::WaitReason::none) {
    std::size_t n = 0;
    sched_->impl().for_each_task([&](detail::TaskRecord* r) {
      if (r->state.load(std::memory_order_acquire) ==
              static_cast<std::uint8_t>(detail::TaskState::waiting) &&
          (reason == detail::WaitReason::none ||
           r->wait_reason.load(std::memory_order_relaxed) == static_cast<std::uint8_t>(reason))) {
        ++n;
      }
    });
    return n;
  }
  // Waits until `n` tasks wait for `reason`: the event a test means by "it is blocked".
  bool until_waiting(std::size_t n, detail::WaitReason reason = detail::WaitReason::none) {
    return eventually([&] { return waiting(reason) >= n; });
  }

 private:
  leaks::Options baseline_;
  std::unique_ptr<Scheduler> sched_;
};

inline std::string worker_name(const ::testing::TestParamInfo<unsigned>& info) {
  return std::to_string(info.param) + "_workers";
}

#define COGO_RUNTIME_TEST_SUITE(Suite)                                                  \
  INSTANTIATE_TEST_SUITE_P(Workers, Suite, ::testing::Values(1u, 2u, 4u),                \
                           ::cogo::test::worker_name)

}  // namespace cogo::test
