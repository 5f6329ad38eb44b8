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
// Target cogo::testing (links GoogleTest and cogo::diag). Thread safety: as GoogleTest's
// own assertions.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cogo/diag/leak_check.hpp"

namespace cogo::testing {

// Adds a non-fatal failure, with the report, if find_leaks(options) reports anything.
void expect_no_leaks(const leaks::Options& options = leaks::Options());

class LeakCheckListener : public ::testing::EmptyTestEventListener {
 public:
  explicit LeakCheckListener(leaks::Options defaults = leaks::Options());

  void OnTestStart(const ::testing::TestInfo& info) override;
  void OnTestEnd(const ::testing::TestInfo& info) override;
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override;

 private:
  leaks::Options defaults_;
  leaks::Options baseline_;
  std::vector<std::string> leaking_;
};

}  // namespace cogo::testing
