// An ErrGroup fan-out: five replicas are queried at once; one fails, which cancels the
// group's context, and every other replica stops early and says what stopped it.
#include <cogo/context.hpp>
#include <cogo/errgroup.hpp>
#include <cogo/scheduler.hpp>
#include <cogo/task.hpp>
#include <cogo/timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct Log {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(std::string s) {
    std::lock_guard<std::mutex> g(mu);
    lines.push_back(std::move(s));
  }
};

// A replica that answers after `latency`, or fails after 20 ms if `broken`.
cogo::Task<cogo::Error> query(cogo::Context ctx, int id, bool broken, Log& log) {
  if (broken) {
    co_await cogo::sleep(20ms);
    log.add("replica " + std::to_string(id) + ": failing");
    co_return cogo::Error("replica " + std::to_string(id) + ": disk full");
  }
  if (cogo::Error err = co_await cogo::sleep(ctx, 10s)) {
    log.add("replica " + std::to_string(id) + ": stopped early: " + cogo::cause(ctx).to_string());
    co_return err;
  }
  log.add("replica " + std::to_string(id) + ": answered");
  co_return cogo::Error();
}

cogo::Task<> fan_out() {
  Log log;
  cogo::ErrGroup group(cogo::background());
  for (int id = 0; id < 5; ++id) {
    const cogo::Context ctx = group.context();
    auto member = [ctx, id, &log] { return query(ctx, id, id == 3, log); };
    group.go(member);
  }
  const cogo::Error err = co_await group.wait();
  std::sort(log.lines.begin(), log.lines.end());
  for (const auto& line : log.lines) std::printf("  %s\n", line.c_str());
  std::printf("  group: %s\n", err.to_string().c_str());
}

}  // namespace

int main() {
  std::printf("== errgroup fan-out: the first failure cancels the rest, naming the failing task ==\n");
  const auto t0 = std::chrono::steady_clock::now();
  cogo::Scheduler::default_scheduler().block_on(fan_out());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  std::printf("  took %lld ms, not the 10 s of the slow replicas\n", static_cast<long long>(ms));
}
