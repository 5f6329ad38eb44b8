#include "cogo/detail/format.hpp"

#include <cstdio>
#include <ctime>

#include "cogo/detail/duration.hpp"

namespace cogo::detail {

void append_site(std::string& out, const source_location& where) {
  out += where.file_name();
  out += ':';
  out += std::to_string(where.line());
}

namespace {

// Writes v / 10^prec with its trailing fractional zeros dropped, into buf ending at w;
// returns the new start. This is the fraction step of Go's duration layout.
int format_fraction(char* buf, int w, std::uint64_t& v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    const auto digit = static_cast<char>(v % 10);
    print = print || digit != 0;
    if (print) buf[--w] = static_cast<char>('0' + digit);
    v /= 10;
  }
  if (print) buf[--w] = '.';
  return w;
}

int format_integer(char* buf, int w, std::uint64_t v) {
  if (v == 0) {
    buf[--w] = '0';
    return w;
  }
  while (v > 0) {
    buf[--w] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return w;
}

}  // namespace

void append_go_duration(std::string& out, std::int64_t ns) {
  char buf[40];
  int w = static_cast<int>(sizeof buf);
  const bool neg = ns < 0;
  std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  if (u < 1'000'000'000ULL) {
    // Sub-second values use a smaller unit: "1.5µs", "250ms".
    int prec = 0;
    const char* unit = "";
    if (u == 0) {
      out += "0s";
      return;
    } else if (u < 1'000ULL) {
      unit = "ns";
    } else if (u < 1'000'000ULL) {
      prec = 3;
      unit = "\xC2\xB5s";  // µs
    } else {
      prec = 6;
      unit = "ms";
    }
    const std::string_view units(unit);
    w -= static_cast<int>(units.size());
    units.copy(buf + w, units.size());
    w = format_fraction(buf, w, u, prec);
    w = format_integer(buf, w, u);
  } else {
    buf[--w] = 's';
    w = format_fraction(buf, w, u, 9);
    w = format_integer(buf, w, u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      w = format_integer(buf, w, u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        w = format_integer(buf, w, u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  out.append(buf + w, sizeof buf - static_cast<std::size_t>(w));
}

std::string go_duration(std::chrono::nanoseconds d) {
  std::string s;
  append_go_duration(s, d.count());
  return s;
}

void append_wall_time(std::string& out, std::chrono::steady_clock::time_point t) {
  using namespace std::chrono;
  // In 128 bits: the steady clock spans 584 years around boot and the wall clock's origin is
  // 1970, so a steady time near either end has a wall time beyond int64 nanoseconds.
  const auto ns = [](auto tp) {
    return static_cast<WideInt>(duration_cast<nanoseconds>(tp.time_since_epoch()).count());
  };
  const WideInt wall = ns(system_clock::now()) + (ns(t) - ns(steady_clock::now()));
  WideInt secs = wall / 1'000'000'000;
  WideInt frac = wall % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  out.append(buf, static_cast<std::size_t>(n));
  if (frac != 0) {
    // Go trims trailing zeros of the fractional second.
    char fb[16];
    std::snprintf(fb, sizeof fb, ".%09lld", static_cast<long long>(frac));
    std::string_view f(fb);
    while (f.back() == '0') f.remove_suffix(1);
    out += f;
  }
  out += " +0000 UTC";
}

}  // namespace cogo::detail
