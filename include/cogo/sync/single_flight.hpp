// SingleFlight<K, V>
//
// Duplicate call suppression (golang.org/x/sync/singleflight's Group): co_await
// g.run(key, fn) runs fn unless a call for the same key is already in flight, in which
// case it waits for that call and shares its outcome. fn returns Task<V> (or anything
// convertible to V, directly or as a Task). The result is {value, shared}: shared is
// true when the value went to more than one caller (for the caller that ran fn too, as
// in Go). An exception thrown by fn reaches every caller that shared the call. forget(key)
// makes later calls for the key run fn afresh instead of joining the one in flight.
//
// Callers that wait for another's call show as [task await] in task dumps.
//
// Differences from x/sync: no DoChan (a task started with go() that runs run() and sends
// the result is the same); errors are whatever V carries (an Error, or a struct with
// one) plus exceptions, which play the part of Go's panics and reach every sharer. There
// is no Goexit to model. V must be copyable: each sharer gets its own copy.
//
// Thread safety: every member is safe from any thread and any task at once.
// Cancellation: not cancellation-aware, like Go's Do: a caller waits until the call it
//   joined ends. Make fn itself honour a context to bound it.
// Lifetime: the SingleFlight must outlive the calls on it; fn (a copy kept in the
//   caller's frame) lives until the call ends.
// Memory ordering: the end of fn happens-before every sharer's run() returns.
// Complexity: one hash lookup under a lock per call, plus one small allocation for a
//   call that runs fn; O(sharers) to wake them.
// Example:
//   cogo::SingleFlight<std::string, Profile> loads;
//   auto load = [&] { return fetch_profile(ctx, id); };   // returns Task<Profile>
//   auto [profile, shared] = co_await loads.run(id, load);
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/lock.hpp"
#include "cogo/detail/ref.hpp"
#include "cogo/detail/select_core.hpp"
#include "cogo/detail/wait_list.hpp"
#include "cogo/error.hpp"
#include "cogo/task.hpp"

namespace cogo {

namespace detail {

// One call in flight, shared by the caller that runs fn and the callers that joined it.
// Its waiters are guarded by the group's lock.
class FlightCall {
 public:
  explicit FlightCall(Lock& group_lock) noexcept : lock_(&group_lock) {}
  FlightCall(const FlightCall&) = delete;
  FlightCall& operator=(const FlightCall&) = delete;

  void add_ref() noexcept { refs_.add(); }
  void release() noexcept {
    if (refs_.drop()) destroy_(this);
  }

  // For the wait of a caller that joined (ListCase).
  Lock& wait_lock() noexcept { return *lock_; }
  List& wait_list() noexcept { return waiters_; }
  bool try_take_locked() noexcept { return done_; }

  // Under the group's lock: the call has ended; collects its waiters into `woken`.
  void finish_locked(List& woken) noexcept;

  std::size_t dups = 0;        // callers that joined; guarded by the group's lock
  std::exception_ptr error;    // written by the runner before finish_locked

 protected:
  using DestroyFn = void (*)(FlightCall*) noexcept;
  DestroyFn destroy_ = nullptr;
  ~FlightCall() = default;

 private:
  RefCount refs_{1};
  Lock* lock_;
  bool done_ = false;  // guarded by the group's lock
  List waiters_;       // guarded by the group's lock
};

template <class V>
class FlightCallOf final : public FlightCall {
 public:
  explicit FlightCallOf(Lock& group_lock) noexcept : FlightCall(group_lock) {
    destroy_ = [](FlightCall* c) noexcept { delete static_cast<FlightCallOf*>(c); };
  }
  std::optional<V> value;  // written by the runner before finish_locked
};

// The value fn produces: its result, or what its Task yields.
template <class R>
struct flight_value {
  using type = R;
};
template <class T>
struct flight_value<Task<T>> {
  using type = T;
};

}  // namespace detail

template <class K, class V, class Hash = std::hash<K>, class KeyEqual = std::equal_to<K>>
class SingleFlight {
  static_assert(!std::is_void_v<V>, "SingleFlight<K, void> is not supported: use a value type "
                                    "(bool, std::monostate, cogo::Error)");
  static_assert(std::is_copy_constructible_v<V>, "SingleFlight's V must be copyable: every caller "
                                                 "that shares a call gets its own copy");

 public:
  struct Result {
    V value;
    bool shared = false;  // the value went to more than one caller
  };

  SingleFlight() = default;
  SingleFlight(const SingleFlight&) = delete;
  SingleFlight& operator=(const SingleFlight&) = delete;

  // Runs fn for `key` unless a call for it is in flight, then shares that call's outcome.
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  [[nodiscard]] Task<Result> run(K key, F&& fn, source_location where = source_location::current()) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    static_assert(std::is_convertible_v<typename detail::flight_value<R>::type, V>,
                  "SingleFlight::run: fn must return V or Task<V> (or something convertible)");
    return run_body(this, std::move(key), std::decay_t<F>(std::forward<F>(fn)), where);
  }

  // Later calls for `key` run fn afresh; the call in flight, if any, still ends for the
  // callers that joined it.
  void forget(const K& key) {
    detail::LockGuard g(mu_);
    calls_.erase(key);
  }

 private:
  using Call = detail::FlightCallOf<V>;
  using WaitCase = detail::ListCase<detail::FlightCall, detail::WaitReason::task_await>;

  template <class F>
  static Task<Result> run_body(SingleFlight* g, K key, F fn, source_location where) {
    detail::Ref<Call> c;
    bool runner = false;
    {
      detail::LockGuard lk(g->mu_);
      auto it = g->calls_.find(key);
      if (it != g->calls_.end()) {
        c = detail::Ref<Call>::share(it->second);
        ++c->dups;
      } else {
        c = detail::Ref<Call>::adopt(new Call(g->mu_));
        g->calls_.emplace(key, c.get());
        runner = true;
      }
    }
    if (!runner) {
      co_await detail::SingleAwaiter<WaitCase>(WaitCase(c.get(), where));
      if (c->error) std::rethrow_exception(c->error);
      co_return Result{*c->value, true};
    }
    try {
      if constexpr (detail::is_task<std::invoke_result_t<F&>>::value) {
        auto v = co_await fn();
        c->value.emplace(std::move(v));
      } else {
        c->value.emplace(fn());
      }
    } catch (...) {
      c->error = std::current_exception();
    }
    detail::List woken;
    bool shared = false;
    {
      detail::LockGuard lk(g->mu_);
      // forget() may have removed it, and a newer call may hold the key now.
      auto it = g->calls_.find(key);
      if (it != g->calls_.end() && it->second == c.get()) g->calls_.erase(it);
      shared = c->dups > 0;  // final: nobody can join once it is out of the map
      c->finish_locked(woken);
    }
    detail::wake_all(woken);
    if (c->error) std::rethrow_exception(c->error);
    if (!shared) co_return Result{std::move(*c->value), false};
    co_return Result{*c->value, true};
  }

  detail::Lock mu_;
  std::unordered_map<K, Call*, Hash, KeyEqual> calls_ COGO_GUARDED_BY(mu_);
};

}  // namespace cogo
