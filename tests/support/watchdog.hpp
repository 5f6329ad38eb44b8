// A guard for tests whose failure mode is a hang: if it is still alive after `limit`,
// it prints `what` and aborts the process, so that the test fails at once with a reason
// instead of running into CTest's timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace cogo::test {

class Watchdog {
 public:
  explicit Watchdog(std::string what, std::chrono::milliseconds limit = std::chrono::seconds(10))
      : what_(std::move(what)), thread_([this, limit] { watch(limit); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> g(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void watch(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lk(mu_);
    if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
      std::fprintf(stderr, "watchdog: still running after %lld ms, presumed hung: %s\n",
                   static_cast<long long>(limit.count()), what_.c_str());
      std::fflush(stderr);
      std::abort();
    }
  }

  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace cogo::test
