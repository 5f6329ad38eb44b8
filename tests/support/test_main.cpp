#include <gtest/gtest.h>

#include "cogo/testing.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Every test of every suite is checked for tasks, timers and contexts left behind.
  ::testing::UnitTest::GetInstance()->listeners().Append(new cogo::testing::LeakCheckListener);
  return RUN_ALL_TESTS();
}
