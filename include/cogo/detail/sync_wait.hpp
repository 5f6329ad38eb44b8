// sync_wait: runs an awaitable on the calling thread. Internal; included by task.hpp.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "cogo/detail/futex.hpp"
#include "cogo/detail/runtime.hpp"
#include "cogo/detail/stall.hpp"

namespace cogo {
namespace detail {

// The resume target of a thread inside sync_wait: a waker hands it the coroutine to
// resume, and the thread resumes it itself.
class ThreadDriver final : public ResumeTarget {
 public:
  void resume_later(RunItem& item) noexcept override {
    next_ = item.handle;
    ready_.store(1, std::memory_order_release);
    futex_wake(ready_, 1);
  }
  std::coroutine_handle<> wait_next(StallWatch& watch) noexcept {
    while (ready_.load(std::memory_order_acquire) == 0) {
      if (!futex_wait(ready_, 0, StallWatch::next_check())) watch.check();
    }
    ready_.store(0, std::memory_order_relaxed);
    return next_;
  }

 private:
  std::atomic<std::uint32_t> ready_{0};
  std::coroutine_handle<> next_;
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}
template <class A>
using await_result_t = decltype(std::declval<std::remove_reference_t<decltype(
                                    get_awaiter(std::declval<A>()))>&>()
                                    .await_resume());

// Where the coroutine sync_wait drives keeps its result.
template <class R>
struct SyncWaitResult {
  using Stored = std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>;
  std::optional<Stored> value;
  template <class U>
  void return_value(U&& v) {
    if constexpr (std::is_reference_v<R>) {
      value.emplace(std::addressof(v));
    } else {
      value.emplace(std::forward<U>(v));
    }
  }
  R take() {
    if constexpr (std::is_reference_v<R>) {
      return static_cast<R>(**value);
    } else {
      return std::move(*value);
    }
  }
};
template <>
struct SyncWaitResult<void> {
  void return_void() noexcept {}
  void take() noexcept {}
};

// The coroutine sync_wait drives: awaits, keeps the result or the exception.
template <class R>
class SyncWaitCoro {
 public:
  struct promise_type : SyncWaitResult<R> {
    std::exception_ptr exception;
    SyncWaitCoro get_return_object() noexcept {
      return SyncWaitCoro(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }
  };

  explicit SyncWaitCoro(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  SyncWaitCoro(SyncWaitCoro&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  SyncWaitCoro(const SyncWaitCoro&) = delete;
  SyncWaitCoro& operator=(const SyncWaitCoro&) = delete;
  SyncWaitCoro& operator=(SyncWaitCoro&&) = delete;
  ~SyncWaitCoro() {
    if (h_) h_.destroy();
  }
  std::coroutine_handle<promise_type> handle() const noexcept { return h_; }

  R take() {
    promise_type& p = h_.promise();
    if (p.exception) std::rethrow_exception(p.exception);
    return p.take();
  }

 private:
  std::coroutine_handle<promise_type> h_;
};

template <class R, class A>
SyncWaitCoro<R> sync_wait_body(A&& a) {
  if constexpr (std::is_void_v<R>) {
    co_await std::forward<A>(a);
  } else {
    co_return co_await std::forward<A>(a);
  }
}

// Restores the thread's runtime state when sync_wait returns or throws.
class ThreadStateScope {
 public:
  explicit ThreadStateScope(ResumeTarget* target) noexcept : saved_(this_thread()) {
    ThreadState& ts = this_thread();
    ts.target = target;
    ts.task = nullptr;
  }
  ~ThreadStateScope() {
    ThreadState& ts = this_thread();
    ts.target = saved_.target;
    ts.task = saved_.task;
  }
  ThreadStateScope(const ThreadStateScope&) = delete;
  ThreadStateScope& operator=(const ThreadStateScope&) = delete;

 private:
  ThreadState saved_;
};

}  // namespace detail

template <class A>
decltype(auto) sync_wait(A&& awaitable, source_location where) {
  detail::refuse_blocking_wait("sync_wait", where);
  using R = detail::await_result_t<A&&>;
  detail::ThreadDriver driver;
  detail::ThreadStateScope scope(&driver);
  auto co = detail::sync_wait_body<R>(std::forward<A>(awaitable));
  auto h = co.handle();
  detail::resume_loop(h);
  if (!h.done()) {
    detail::StallWatch watch("sync_wait", where);
    while (!h.done()) detail::resume_loop(driver.wait_next(watch));
  }
  return co.take();
}

}  // namespace cogo
