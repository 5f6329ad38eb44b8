// The GoogleTest leak check: expect_no_leaks and the listener.
#include "cogo/testing.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace cogo::testing {

void expect_no_leaks(const leaks::Options& options) {
  const leaks::Report r = leaks::find_leaks(options);
  if (!r.empty()) ADD_FAILURE() << "cogo: leaks after the test:\n" << r.describe();
}

LeakCheckListener::LeakCheckListener(leaks::Options defaults) : defaults_(std::move(defaults)) {}

void LeakCheckListener::OnTestStart(const ::testing::TestInfo& /*info*/) {
  baseline_ = defaults_;
  baseline_.ignore_current();
}

void LeakCheckListener::OnTestEnd(const ::testing::TestInfo& info) {
  const leaks::Report r = leaks::find_leaks(baseline_);
  if (r.empty()) return;
  const std::string name = std::string(info.test_suite_name()) + "." + info.name();
  std::fprintf(stderr, "cogo: %s leaked:\n%s\n", name.c_str(), r.describe().c_str());
  leaking_.push_back(name);
}

void LeakCheckListener::OnTestProgramEnd(const ::testing::UnitTest& /*unit*/) {
  if (leaking_.empty()) return;
  std::fprintf(stderr, "cogo: %zu test(s) leaked tasks, timers or contexts:\n", leaking_.size());
  for (const std::string& n : leaking_) std::fprintf(stderr, "  %s\n", n.c_str());
  std::fflush(nullptr);
  std::_Exit(1);
}

}  // namespace cogo::testing
