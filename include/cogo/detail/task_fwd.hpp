// Task's declaration and is_task
//
// The trait that recognises a cogo::Task, for headers that must refuse or treat Task-returning callables without including
// cogo/task.hpp.
#pragma once

#include <type_traits>

namespace cogo {

template <class T>
class Task;

namespace detail {

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};

// True when calling F& yields a cogo::Task: a coroutine that a plain callback slot
// would call and then drop unstarted.
template <class F>
inline constexpr bool returns_task_v = is_task<std::invoke_result_t<F&>>::value;

}  // namespace detail
}  // namespace cogo
