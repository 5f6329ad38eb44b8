// cogo's executor for callbacks: one background thread, started on first use.
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <string>
#include <mutex>
#include <new>
#include <thread>

#include "cogo/detail/executor.hpp"
#include "cogo/detail/format.hpp"

namespace cogo::detail {
namespace {

class ThreadExecutor {
 public:
  void post(Runnable* r) noexcept {
    {
      std::lock_guard<std::mutex> g(mu_);
      r->next_runnable = nullptr;
      if (tail_ != nullptr) {
        tail_->next_runnable = r;
      } else {
        head_ = r;
      }
      tail_ = r;
      ++pending_;
      if (!started_) {
        started_ = true;
        std::thread([this] { loop(); }).detach();
      }
    }
    cv_.notify_one();
  }

  long pending() noexcept {
    std::lock_guard<std::mutex> g(mu_);
    return pending_;
  }

 private:
  void loop() noexcept {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return head_ != nullptr; });
      Runnable* r = head_;
      head_ = r->next_runnable;
      if (head_ == nullptr) tail_ = nullptr;
      lk.unlock();
      r->run(r);
      lk.lock();
      --pending_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
  long pending_ = 0;
  bool started_ = false;
};

// Never destroyed: callbacks may be posted while the process exits.
ThreadExecutor& executor() noexcept {
  alignas(ThreadExecutor) static unsigned char storage[sizeof(ThreadExecutor)];
  static ThreadExecutor* const e = ::new (static_cast<void*>(storage)) ThreadExecutor;
  return *e;
}

}  // namespace

void post(Runnable* r) noexcept { executor().post(r); }

void call_reporting(void (*fn)(void*), void* arg, const char* what,
                    const source_location& site) noexcept {
  try {
    fn(arg);
    return;
  } catch (const std::exception& e) {
    std::string where;
    append_site(where, site);
    std::fprintf(stderr, "cogo: %s registered at %s threw: %s\n", what, where.c_str(), e.what());
  } catch (...) {
    std::string where;
    append_site(where, site);
    std::fprintf(stderr, "cogo: %s registered at %s threw a non-exception\n", what, where.c_str());
  }
}

long executor_pending() noexcept { return executor().pending(); }

}  // namespace cogo::detail
