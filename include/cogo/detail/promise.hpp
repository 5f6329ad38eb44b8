// The promise behind cogo::Task<T>. Internal.
#pragma once

#include <coroutine>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "cogo/detail/pool.hpp"
#include "cogo/detail/runtime.hpp"

namespace cogo::detail {

class PromiseBase;

// Finishes a task started by go(): reports an escaped exception, unregisters the task
// and frees its frame. Called by resume_loop once the frame is off the stack.
void finish_root(PromiseBase& p) noexcept;

class PromiseBase {
 public:
  // Frames come from the per-thread block pool.
  static void* operator new(std::size_t n) { return pool_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { pool_free(p, n); }

  struct InitialAwaiter {
    PromiseBase* p;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {
      if (p->record_ != nullptr) note_running(p->record_);
    }
  };

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) const noexcept {
      PromiseBase& p = h.promise();
      if (p.continuation_) {  // back to the awaiting frame
#if COGO_TASK_REGISTRY
        if (p.record_ != nullptr) p.record_->pop_frame();
#endif
        return transfer_to(p.continuation_);
      }
      ThreadState& ts = this_thread();
      if (ts.in_loop) {
        ts.finished = &p;  // the loop frees it once this frame is off the stack
      } else {
        finish_root(p);
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  InitialAwaiter initial_suspend() noexcept { return {this}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  std::coroutine_handle<> continuation_;  // the frame awaiting this one; null for a root
  TaskRecord* record_ = nullptr;          // the task this frame runs in
  std::exception_ptr exception_;
  RunItem start_;                         // a root's first run, queued by spawn; its handle
                                          // is the root's own, which finish_root destroys
};

template <class T>
class Promise final : public PromiseBase {
 public:
  auto get_return_object() noexcept;
  template <class U>
    requires std::convertible_to<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    ::new (static_cast<void*>(&storage_)) T(std::forward<U>(v));
    has_value_ = true;
  }
  T take() {
    if (exception_) std::rethrow_exception(exception_);
    return std::move(*std::launder(reinterpret_cast<T*>(&storage_)));
  }
  ~Promise() {
    if (has_value_) std::launder(reinterpret_cast<T*>(&storage_))->~T();
  }

 private:
  alignas(T) unsigned char storage_[sizeof(T)];
  bool has_value_ = false;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  auto get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (exception_) std::rethrow_exception(exception_);
  }
};

}  // namespace cogo::detail
