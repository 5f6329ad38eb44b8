// Duration conversions that saturate instead of overflowing. Internal.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace cogo::detail {

// Converts a duration to nanoseconds; values beyond int64 clamp to its limits (Go clamps
// overflowing durations the same way).
template <class Rep, class Period>
constexpr std::int64_t saturating_ns(std::chrono::duration<Rep, Period> d) noexcept {
  using namespace std::chrono;
  if constexpr (std::is_integral_v<Rep> && std::ratio_less_equal_v<Period, std::nano>) {
    return static_cast<std::int64_t>(duration_cast<nanoseconds>(d).count());
  } else {
    const long double v = duration_cast<duration<long double, std::nano>>(d).count();
    if (v >= static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
      return std::numeric_limits<std::int64_t>::max();
    }
    if (v <= static_cast<long double>(std::numeric_limits<std::int64_t>::min())) {
      return std::numeric_limits<std::int64_t>::min();
    }
    return static_cast<std::int64_t>(v);
  }
}

// a + b, clamped to the int64 range.
constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}

}  // namespace cogo::detail
