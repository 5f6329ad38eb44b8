// Text helpers shared by Error, Context and the diagnostics. Internal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cogo/detail/config.hpp"

namespace cogo::detail {

// Appends "file:line" for a known site.
void append_site(std::string& out, const source_location& where);

// Appends a duration the way Go's time.Duration.String prints it: "1h2m3.5s", "250ms",
// "1.5µs", "0s".
void append_go_duration(std::string& out, std::int64_t ns);
std::string go_duration(std::chrono::nanoseconds d);

// Appends a steady-clock time as the UTC wall time it corresponds to now, in Go's
// time.Time.String layout: "2026-11-22 10:02:03.123456789 +0000 UTC".
void append_wall_time(std::string& out, std::chrono::steady_clock::time_point t);

// The name of T as the compiler spells it, without RTTI.
template <class T>
constexpr std::string_view type_name() noexcept {
  std::string_view p = __PRETTY_FUNCTION__;
#if defined(__clang__)
  const std::string_view prefix = "T = ";
  const std::string_view::size_type end = p.rfind(']');
#else
  const std::string_view prefix = "T = ";
  std::string_view::size_type end = p.find(';', p.find(prefix));
  if (end == std::string_view::npos) end = p.rfind(']');
#endif
  const std::string_view::size_type start = p.find(prefix) + prefix.size();
  return p.substr(start, end - start);
}

}  // namespace cogo::detail
