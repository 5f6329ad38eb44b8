#include "cogo/detail/format.hpp"

#include <gtest/gtest.h>

#include <climits>
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

struct Named {};

TEST(FormatTest, TypeNameNeedsNoRtti) {
  EXPECT_EQ(cogo::detail::type_name<int>(), "int");
  EXPECT_NE(cogo::detail::type_name<Named>().find("Named"), std::string_view::npos);
}

}  // namespace
