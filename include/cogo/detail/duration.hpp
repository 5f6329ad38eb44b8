// Durations and time points as int64 nanoseconds, saturating instead of overflowing.
// Internal.
//
// Timers and deadlines keep every time as int64 nanoseconds on their clock. Every
// conversion into that form rounds up, so a timeout is never shorter than asked for, and
// clamps to the int64 range instead of overflowing: 292 years and more saturate (Go clamps
// its durations the same way). The top of the range, kEndOfTime (time_point::max()), is a
// time never reached: a deadline there is a deadline, but nothing is ever armed for it and
// it never fires. A NaN duration or time point is rejected with std::invalid_argument;
// +inf and -inf saturate like any other out-of-range value.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ratio>
#include <stdexcept>
#include <type_traits>

namespace cogo::detail {

inline constexpr std::int64_t kEndOfTime = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kStartOfTime = std::numeric_limits<std::int64_t>::min();

// Wide enough for any 64-bit count times any 64-bit ratio.
__extension__ typedef __int128 WideInt;

// Whether converting a duration of this representation can fail (only NaN can).
template <class Rep>
inline constexpr bool kExactRep = std::is_integral_v<Rep> && sizeof(Rep) <= sizeof(std::int64_t);

[[noreturn]] inline void throw_nan_duration() {
  throw std::invalid_argument("cogo: a duration or time point is NaN");
}

// a * b for a positive ratio term b, clamped to the WideInt range.
constexpr WideInt wide_mul(WideInt a, std::intmax_t b) noexcept {
  constexpr WideInt kMax = ((static_cast<WideInt>(1) << 126) - 1) * 2 + 1;
  WideInt r = 0;
  if (__builtin_mul_overflow(a, static_cast<WideInt>(b), &r)) return a > 0 ? kMax : -kMax - 1;
  return r;
}

constexpr std::int64_t clamp_ns(WideInt v) noexcept {
  if (v > kEndOfTime) return kEndOfTime;
  if (v < kStartOfTime) return kStartOfTime;
  return static_cast<std::int64_t>(v);
}

// `ticks` of `Period` in nanoseconds, rounded up and clamped.
template <class Period>
constexpr std::int64_t ticks_to_ns(WideInt ticks) noexcept {
  using R = std::ratio_divide<Period, std::nano>;
  const WideInt scaled = wide_mul(ticks, R::num);  // a clamped product still clamps below
  WideInt q = scaled / R::den;  // truncates towards zero: one short for positive remainders
  if (scaled % R::den > 0) ++q;
  return clamp_ns(q);
}

// Nanoseconds as a floating value, rounded up and clamped; NaN throws.
inline std::int64_t float_to_ns(long double v) {
  if (std::isnan(v)) throw_nan_duration();
  if (v >= static_cast<long double>(kEndOfTime)) return kEndOfTime;
  if (v <= static_cast<long double>(kStartOfTime)) return kStartOfTime;
  std::int64_t i = static_cast<std::int64_t>(v);  // in range now; truncates towards zero
  if (static_cast<long double>(i) < v) ++i;
  return i;
}

// A duration in nanoseconds, rounded up and clamped to the int64 range. Throws
// std::invalid_argument for NaN; cannot throw for integral representations.
template <class Rep, class Period>
constexpr std::int64_t saturating_ns(std::chrono::duration<Rep, Period> d) noexcept(
    kExactRep<Rep>) {
  if constexpr (kExactRep<Rep>) {
    return ticks_to_ns<Period>(static_cast<WideInt>(d.count()));
  } else {
    return float_to_ns(std::chrono::duration<long double, std::nano>(d).count());
  }
}

// a + b and a - b, clamped to the int64 range.
constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kEndOfTime : kStartOfTime;
  return r;
}
constexpr std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? kEndOfTime : kStartOfTime;
  return r;
}

// How long from C::now() until `t`, in nanoseconds, rounded up and clamped: exact for
// integral representations whatever the two clocks' periods.
template <class C, class D>
std::int64_t saturating_ns_until(std::chrono::time_point<C, D> t) noexcept(
    kExactRep<typename std::common_type_t<D, typename C::duration>::rep>) {
  using Common = std::common_type_t<D, typename C::duration>;
  const typename C::time_point now = C::now();
  if constexpr (kExactRep<typename Common::rep>) {
    // Both counts in the common period (which divides theirs), then the difference.
    using Rt = std::ratio_divide<typename D::period, typename Common::period>;
    using Rn = std::ratio_divide<typename C::duration::period, typename Common::period>;
    static_assert(Rt::den == 1 && Rn::den == 1);
    const WideInt a = wide_mul(static_cast<WideInt>(t.time_since_epoch().count()), Rt::num);
    const WideInt b = wide_mul(static_cast<WideInt>(now.time_since_epoch().count()), Rn::num);
    WideInt diff = 0;
    if (__builtin_sub_overflow(a, b, &diff)) return a > b ? kEndOfTime : kStartOfTime;
    return ticks_to_ns<typename Common::period>(diff);
  } else {
    return saturating_ns(std::chrono::duration<long double, typename Common::period>(t - now));
  }
}

}  // namespace cogo::detail
