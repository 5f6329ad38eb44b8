// WaitGroup: a counter pushed past its range wraps negative instead of being
// refused.
//
// The header promises that a counter that would go negative is refused with usage_error
// and left unchanged. The state word keeps the count shifted left by one
// (include/cogo/sync/wait_group.hpp:88-90), so only 62 bits of count fit; add(delta > 0)
// (src/sync/sync.cpp:15-20) is an unchecked fetch_add(delta * 2): two adds of 2^61 wrap
// the word to INT64_MIN, count() reads -2^62, every later done() is refused, and a
// wait() waits for ever. (add(2^62) alone is signed overflow in `delta * 2`: UB.) Go
// panics on the same overflow (its counter wraps negative and Add panics).
#include <gtest/gtest.h>

#include <cstdint>

#include "cogo/error.hpp"
#include "cogo/sync.hpp"

namespace {

TEST(WaitGroupRegression, ACounterPushedPastItsRangeIsRefusedNotWrappedNegative) {
  cogo::WaitGroup wg;
  const std::int64_t big = std::int64_t{1} << 61;
  wg.add(big);
  bool refused = false;
  try {
    wg.add(big);
  } catch (const cogo::usage_error&) {
    refused = true;
  }
  EXPECT_GE(wg.count(), 0) << "the counter wrapped negative";
  EXPECT_EQ(wg.count(), refused ? big : 2 * big);
}

}  // namespace
