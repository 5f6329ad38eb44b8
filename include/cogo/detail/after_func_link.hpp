// The registration behind cogo::after_func(ctx, f). Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/context_node.hpp"
#include "cogo/detail/executor.hpp"
#include "cogo/detail/pool.hpp"
#include "cogo/detail/ref.hpp"

namespace cogo::detail {

// Listed in the context's done source. References: one for the handle, one for the list
// (handed to the scheduler when f is started).
class AfterFuncLink : public Link, public Runnable {
 public:
  enum : std::uint8_t { kArmed, kStarted, kStopped };

  // Registers with `node` (which may be null: never done). Takes a reference on node.
  void start(CancelNode* node) noexcept;
  bool stop() noexcept;
  void release() noexcept {
    if (refs_.drop()) destroy_(this);
  }
  const source_location& site() const noexcept { return site_; }

 protected:
  using CallFn = void (*)(AfterFuncLink*);
  using DestroyFn = void (*)(AfterFuncLink*) noexcept;
  AfterFuncLink(CallFn call, DestroyFn destroy, source_location site) noexcept;
  ~AfterFuncLink();

 private:
  static void on_done(Link* self, CancelNode& source) noexcept;
  static void on_run(Runnable* self) noexcept;

  RefCount refs_{2};
  std::atomic<std::uint8_t> state_{kArmed};
  CancelNode* node_ = nullptr;
  CallFn call_;
  DestroyFn destroy_;
  source_location site_;
};

template <class F>
class AfterFuncImpl final : public AfterFuncLink, public Pooled {
 public:
  template <class G>
  AfterFuncImpl(G&& g, source_location site)
      : AfterFuncLink(&call, &destroy, site), f_(std::forward<G>(g)) {}

 private:
  static void call(AfterFuncLink* self) { static_cast<AfterFuncImpl*>(self)->f_(); }
  static void destroy(AfterFuncLink* self) noexcept { delete static_cast<AfterFuncImpl*>(self); }

  F f_;
};

}  // namespace cogo::detail
