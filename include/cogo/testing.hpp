// GoogleTest support: fail a test that leaves tasks, timers or contexts behind
//
// cogo::testing::expect_no_leaks(options) adds a test failure, with the level-2 dump of
// what leaked, if find_leaks (cogo/leak_check.hpp) reports anything after its retries.
// Typical use, in a fixture:
//
//   void SetUp() override { baseline_ = cogo::leaks::Options().ignore_current(); }
//   void TearDown() override { cogo::testing::expect_no_leaks(baseline_); }
//
// LeakCheckListener checks after every test of a program, against what was alive when
// the test started:
//
//   ::testing::UnitTest::GetInstance()->listeners().Append(
//       new cogo::testing::LeakCheckListener);
//
// GoogleTest gives a listener no way to fail a test that has ended, so the listener
// prints each leaking test's report as it ends and fails the program: it ends with exit
// status 1 after the last test.
//
// Header-only; needs GoogleTest. Thread safety: as GoogleTest's own assertions.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cogo/leak_check.hpp"

namespace cogo::testing {

inline void expect_no_leaks(const leaks::Options& options = leaks::Options()) {
  const leaks::Report r = leaks::find_leaks(options);
  if (!r.empty()) ADD_FAILURE() << "cogo: leaks after the test:\n" << r.describe();
}

class LeakCheckListener : public ::testing::EmptyTestEventListener {
 public:
  explicit LeakCheckListener(leaks::Options defaults = leaks::Options()) : defaults_(std::move(defaults)) {}

  void OnTestStart(const ::testing::TestInfo&) override {
    baseline_ = defaults_;
    baseline_.ignore_current();
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    const leaks::Report r = leaks::find_leaks(baseline_);
    if (r.empty()) return;
    const std::string name = std::string(info.test_suite_name()) + "." + info.name();
    std::fprintf(stderr, "cogo: %s leaked:\n%s\n", name.c_str(), r.describe().c_str());
    leaking_.push_back(name);
  }
  void OnTestProgramEnd(const ::testing::UnitTest&) override {
    if (leaking_.empty()) return;
    std::fprintf(stderr, "cogo: %zu test(s) leaked tasks, timers or contexts:\n", leaking_.size());
    for (const std::string& n : leaking_) std::fprintf(stderr, "  %s\n", n.c_str());
    std::fflush(nullptr);
    std::_Exit(1);
  }

 private:
  leaks::Options defaults_;
  leaks::Options baseline_;
  std::vector<std::string> leaking_;
};

}  // namespace cogo::testing
