#include "cogo/detail/format.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <string>

namespace {

struct Case {
  long long ns;
  const char* want;
};

// Expected strings printed by Go 1.23's time.Duration.String for the same values.
constexpr Case kGoDurations[] = {
    {0LL, "0s"},
    {1LL, "1ns"},
    {999LL, "999ns"},
    {1000LL, "1\xC2\xB5s"},
    {1500LL, "1.5\xC2\xB5s"},
    {1234567LL, "1.234567ms"},
    {250000000LL, "250ms"},
    {1000000000LL, "1s"},
    {1500000000LL, "1.5s"},
    {63000000000LL, "1m3s"},
    {3599999999999LL, "59m59.999999999s"},
    {3600000000000LL, "1h0m0s"},
    {360000000000000LL, "100h0m0s"},
    {-1500000000LL, "-1.5s"},
    {LLONG_MAX, "2562047h47m16.854775807s"},
    {LLONG_MIN, "-2562047h47m16.854775808s"},
};

TEST(FormatTest, DurationsPrintAsGoPrintsThem) {
  for (const Case& c : kGoDurations) {
    std::string s;
    cogo::detail::append_go_duration(s, c.ns);
    EXPECT_EQ(s, c.want) << c.ns;
  }
}

TEST(FormatTest, WallTimeUsesGoLayout) {
  std::string s;
  cogo::detail::append_wall_time(s, std::chrono::steady_clock::now());
  // "2026-11-22 10:02:03.123456789 +0000 UTC", fraction trimmed of trailing zeros.
  ASSERT_GE(s.size(), std::string("2026-11-22 10:02:03 +0000 UTC").size());
  EXPECT_EQ(s.substr(4, 1), "-");
  EXPECT_EQ(s.substr(10, 1), " ");
  EXPECT_EQ(s.substr(s.size() - 10), " +0000 UTC");
}

// The year a steady time falls in by the wall clock now, in floating point.
int expected_year(std::chrono::steady_clock::time_point t) {
  using namespace std::chrono;
  const long double wall_ns =
      static_cast<long double>(system_clock::now().time_since_epoch() / 1ns) +
      (static_cast<long double>(t.time_since_epoch() / 1ns) -
       static_cast<long double>(steady_clock::now().time_since_epoch() / 1ns));
  return static_cast<int>(std::floor(1970 + wall_ns / 1e9L / 31556952.0L));
}

TEST(FormatTest, WallTimesAtTheExtremesOfTheSteadyClockPrintTheirTrueYear) {
  using clk = std::chrono::steady_clock;
  const auto centuries = std::chrono::hours(24 * 365 * 250);
  for (const clk::time_point t : {clk::time_point::max(), clk::time_point::min(),
                                  clk::time_point{}, clk::now() + centuries,
                                  clk::now() - centuries}) {
    std::string s;
    cogo::detail::append_wall_time(s, t);
    ASSERT_NE(s.find('-'), std::string::npos) << s;
    EXPECT_NEAR(std::stoi(s.substr(0, s.find('-'))), expected_year(t), 1) << s;
    EXPECT_TRUE(s.ends_with(" +0000 UTC")) << s;
  }
}

struct Named {};

TEST(FormatTest, TypeNameNeedsNoRtti) {
  EXPECT_EQ(cogo::detail::type_name<int>(), "int");
  EXPECT_NE(cogo::detail::type_name<Named>().find("Named"), std::string_view::npos);
}

}  // namespace
