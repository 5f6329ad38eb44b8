// Helpers shared by cogo's tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace cogo::test {

// Iteration counts of stress tests are multiplied by this (smaller under sanitizers).
double stress_scale();
int scaled(int n);

// Threads in this process, read from /proc/self/task.
int thread_count();

// Allocations made by the calling thread so far: operator new calls plus blocks served by
// cogo's small-object pool (which would otherwise hide them).
std::uint64_t allocations();

// While it lives, the `nth` call of operator new on the calling thread (1: the next one)
// throws std::bad_alloc (a nothrow form returns null); later calls succeed. Blocks that cogo's pool serves from its
// caches do not call operator new (sanitizer builds have no pool: every block does), so
// tests walk nth upwards until a run sees no failure.
class FailAllocation {
 public:
  explicit FailAllocation(std::uint64_t nth) noexcept;
  ~FailAllocation();
  FailAllocation(const FailAllocation&) = delete;
  FailAllocation& operator=(const FailAllocation&) = delete;
  // Whether the failing call has happened.
  bool fired() const noexcept;
};

// Turns the leak checks' context tracking off while it lives: tracking allocates, and
// tests that count allocations measure the library as it runs without it.
class NoContextTracking {
 public:
  NoContextTracking();
  ~NoContextTracking();
  NoContextTracking(const NoContextTracking&) = delete;
  NoContextTracking& operator=(const NoContextTracking&) = delete;

 private:
  bool was_on_;
};

// Starts cogo's background threads (timer driver, executor) so that thread counts taken
// afterwards are stable.
void warm_up_runtime();

// Polls `pred` until it is true or `timeout` passes; returns its last value. For
// conditions set by another thread with no event to wait on (an executor callback that
// has finished, for example).
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A one-shot event a callback on another thread sets and a test waits for. Copies share
// the state, so a callback holding a copy may still be inside set() after the test that
// waited has returned (which a std::promise on the test's stack does not allow).
class Signal {
 public:
  Signal() : s_(std::make_shared<State>()) {}
  void set() const {
    std::lock_guard<std::mutex> g(s_->mu);
    s_->set = true;
    s_->cv.notify_all();
  }
  bool is_set() const {
    std::lock_guard<std::mutex> g(s_->mu);
    return s_->set;
  }
  bool wait_for(std::chrono::milliseconds d = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> lk(s_->mu);
    return s_->cv.wait_for(lk, d, [&] { return s_->set; });
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool set = false;
  };
  std::shared_ptr<State> s_;
};

}  // namespace cogo::test
