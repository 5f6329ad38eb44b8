// Internal configuration: source locations, thread-safety annotations, branch hints.
// Users never include this header directly.
#pragma once

#include <cstdint>

#if __has_include(<source_location>)
#include <source_location>
#endif

// The task registry (dumps, wait sites, await chains): on unless the build turns it off
// with the CMake option COGO_TASK_REGISTRY=OFF.
#ifndef COGO_TASK_REGISTRY
#define COGO_TASK_REGISTRY 1
#endif

namespace cogo {

#if defined(__cpp_lib_source_location)
// The site of a call, captured by a defaulted parameter. std::source_location where the
// standard library provides it (g++), a compatible stand-in otherwise (clang 14 with
// libstdc++ 12 lacks the builtin libstdc++ needs).
using source_location = std::source_location;
#else
class source_location {
 public:
  constexpr source_location() noexcept = default;
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE(),
                                           std::uint_least32_t column = __builtin_COLUMN()) noexcept {
    source_location loc;
    loc.file_ = file;
    loc.function_ = function;
    loc.line_ = line;
    loc.column_ = column;
    return loc;
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return column_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
  std::uint_least32_t column_ = 0;
};
#endif

}  // namespace cogo

// Clang's -Wthread-safety annotations; empty elsewhere.
#if defined(__clang__)
#define COGO_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define COGO_THREAD_ANNOTATION(x)
#endif
#define COGO_CAPABILITY(x) COGO_THREAD_ANNOTATION(capability(x))
#define COGO_SCOPED_CAPABILITY COGO_THREAD_ANNOTATION(scoped_lockable)
#define COGO_GUARDED_BY(x) COGO_THREAD_ANNOTATION(guarded_by(x))
#define COGO_PT_GUARDED_BY(x) COGO_THREAD_ANNOTATION(pt_guarded_by(x))
#define COGO_ACQUIRE(...) COGO_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define COGO_RELEASE(...) COGO_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define COGO_TRY_ACQUIRE(...) COGO_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define COGO_REQUIRES(...) COGO_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define COGO_EXCLUDES(...) COGO_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define COGO_RETURN_CAPABILITY(x) COGO_THREAD_ANNOTATION(lock_returned(x))
#define COGO_NO_THREAD_SAFETY_ANALYSIS COGO_THREAD_ANNOTATION(no_thread_safety_analysis)

#define COGO_LIKELY(x) __builtin_expect(!!(x), 1)
#define COGO_UNLIKELY(x) __builtin_expect(!!(x), 0)
