// Thin wrappers over the Linux futex system call. Internal.
#pragma once

#include <atomic>
#include <cstdint>

namespace cogo::detail {

// Sentinel for "no timeout" in futex_wait.
inline constexpr std::int64_t kNoDeadline = INT64_MAX;

// Blocks while *word == expected, until woken, or until the CLOCK_MONOTONIC time
// `deadline_ns` (nanoseconds; kNoDeadline for none) passes. Returns false on timeout.
// Spurious returns are possible; callers re-check their condition.
bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::int64_t deadline_ns = kNoDeadline) noexcept;

// Wakes up to `count` threads blocked in futex_wait on `word`.
void futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept;

// CLOCK_MONOTONIC in nanoseconds; the same clock as std::chrono::steady_clock.
std::int64_t monotonic_ns() noexcept;

// CLOCK_MONOTONIC_COARSE: a quarter of the cost, one clock tick (1-4 ms) of precision.
std::int64_t monotonic_ns_coarse() noexcept;

// A reading of CLOCK_MONOTONIC that is never earlier than monotonic_ns() would have
// returned, and at most one clock tick (1-4 ms) later, for a quarter of the cost:
// CLOCK_MONOTONIC_COARSE plus its resolution.
std::int64_t monotonic_ns_upper() noexcept;

}  // namespace cogo::detail
