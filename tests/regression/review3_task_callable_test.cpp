// Callables returning a Task, review 3: Once::call and after_func accept them, call them,
// and drop the Task unstarted, so the body never runs - while Once reports itself done.
//
// Once::call requires only std::is_invocable_v<F&> (include/cogo/sync/once.hpp:104-105)
// and runs `f_();` (:85); after_func requires std::invocable (include/cogo/after_func.hpp:74)
// and runs `f_();` (include/cogo/detail/after_func_link.hpp:56). A coroutine lambda -
// the natural way to write an asynchronous initialiser or clean-up in a coroutine library
// - returns a lazy Task, which is destroyed unawaited. go(callable) refuses such mistakes
// at compile time (compile_fail/go_callable_not_task.cpp), ErrGroup::go too
// (compile_fail/errgroup_go_task_int.cpp), SingleFlight awaits the Task; these two
// neither refuse nor await it. The only hint is Task's [[nodiscard]] warning inside
// cogo's header, which a consumer does not see: CMake passes an imported target's
// include directories with -isystem. The pragmas below stand for that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-result"
#include "cogo/sync/once.hpp"
#include "cogo/after_func.hpp"
#pragma GCC diagnostic pop

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "support/test_support.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;

TEST(ReviewTaskCallables, OnceCallWithACoroutineRunsItsBody) {
  cogo::test::Watchdog wd("once/task", 30s);
  cogo::Scheduler s({.workers = 2});
  std::atomic<bool> ran{false};
  cogo::Once once;
  s.block_on([](cogo::Once& o, std::atomic<bool>& r) -> Task<> {
    co_await o.call([&r]() -> Task<> {
      r.store(true);
      co_return;
    });
  }(once, ran));
  EXPECT_TRUE(once.is_done());
  EXPECT_TRUE(ran.load()) << "Once is done, but the initialiser's body never ran";
}

TEST(ReviewTaskCallables, AfterFuncWithACoroutineRunsItsBody) {
  cogo::test::Watchdog wd("after_func/task", 30s);
  std::atomic<bool> ran{false};
  auto [ctx, cancel] = cogo::with_cancel(cogo::background());
  auto stop = cogo::after_func(ctx, [&ran]() -> Task<> {
    ran.store(true);
    co_return;
  });
  cancel();
  EXPECT_TRUE(cogo::test::eventually([&] { return ran.load(); }, 2s))
      << "the after_func callback was called, but its body never ran";
}

}  // namespace
