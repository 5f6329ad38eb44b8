// An io_context per worker: the IoExtension and IoDriver of cogo::asio.
#include "cogo/asio/io.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cogo/asio/tcp.hpp"
#include "cogo/detail/idle.hpp"
#include "cogo/detail/scheduler_impl.hpp"
#include "cogo/scheduler.hpp"

namespace cogo::asio {
namespace detail {

namespace {

std::atomic<std::int64_t> g_pending{0};

// A worker's io_context, run only by that worker.
class WorkerIo final : public cogo::detail::IoDriver {
 public:
  // One thread runs it: Asio may then skip some locking on its own queue.
  WorkerIo() : ioc_(1), guard_(ioc_.get_executor()) {}

  std::size_t poll() noexcept override {
    try {
      return ioc_.poll();
    } catch (...) {
      return 0;  // a handler threw: cogo's own handlers do not; a user's is the user's
    }
  }
  void wait(std::int64_t deadline_ns) noexcept override {
    try {
      if (deadline_ns == cogo::detail::kNoDeadline) {
        ioc_.run_one();
      } else {
        ioc_.run_one_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns)));
      }
    } catch (...) {
    }
  }
  void interrupt() noexcept override {
    try {
      boost::asio::post(ioc_, [] {});
    } catch (...) {
      // Out of memory: the worker wakes at its next deadline or I/O completion.
    }
  }
  boost::asio::io_context& context() noexcept { return ioc_; }

 private:
  boost::asio::io_context ioc_;
  // Keeps run_one() waiting when nothing is pending, instead of returning at once.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
};

// The io_contexts of ended schedulers that still had sockets (see ~SchedulerIo).
struct Graveyard {
  std::mutex mu;
  std::vector<std::unique_ptr<WorkerIo>> kept;
};
std::atomic<bool> g_graveyard_used{false};
Graveyard& graveyard() {
  static auto* g = new Graveyard;  // never destroyed: its sockets may go at exit
  return *g;
}

class SchedulerIo final : public cogo::detail::IoExtension {
 public:
  explicit SchedulerIo(unsigned workers) {
    io_.reserve(workers);
    for (unsigned i = 0; i < workers; ++i) io_.push_back(std::make_unique<WorkerIo>());
  }
  // After the workers have stopped. Sockets still open on these io_contexts would call
  // into them when destroyed, later: they are shut down and marked closed, and the
  // io_contexts are stopped and kept for the rest of the process instead of freed, so
  // that those sockets fail their operations (errc::closed) and can still be destroyed.
  ~SchedulerIo() override {
    std::vector<const boost::asio::execution_context*> mine;
    for (auto& w : io_) mine.push_back(&w->context());
    std::vector<std::string> open;
    try {
      open = orphan_io_objects(mine);
    } catch (...) {
      open.emplace_back("(out of memory listing them)");
    }
    if (open.empty()) return;
    std::string text = "cogo::asio: a Scheduler ended with " + std::to_string(open.size()) +
                       " socket(s) still open; destroy sockets before their scheduler. They are "
                       "shut down and report errc::closed:\n";
    for (const auto& o : open) text += "  " + o + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    Graveyard& g = graveyard();
    std::lock_guard<std::mutex> lock(g.mu);
    for (auto& w : io_) {
      w->context().stop();
      g.kept.push_back(std::move(w));
    }
    g_graveyard_used.store(true, std::memory_order_release);
  }
  cogo::detail::IoDriver* driver(unsigned index) noexcept override { return io_[index].get(); }
  WorkerIo& at(unsigned index) noexcept { return *io_[index]; }
  unsigned size() const noexcept { return static_cast<unsigned>(io_.size()); }
  unsigned next() noexcept { return next_.fetch_add(1, std::memory_order_relaxed) % size(); }

 private:
  std::vector<std::unique_ptr<WorkerIo>> io_;
  std::atomic<unsigned> next_{0};
};

SchedulerIo& io_of(cogo::detail::SchedulerImpl& s) {
  if (auto* ext = s.io_extension()) return static_cast<SchedulerIo&>(*ext);
  return static_cast<SchedulerIo&>(*s.install_io(std::make_unique<SchedulerIo>(s.worker_count())));
}

}  // namespace

bool is_worker_io_context(const boost::asio::execution_context& ctx) noexcept {
  cogo::detail::SchedulerImpl* s = cogo::detail::SchedulerImpl::current();
  if (s == nullptr) return false;
  auto* ext = static_cast<SchedulerIo*>(s->io_extension());
  const int index = s->worker_index_here();
  return ext != nullptr && index >= 0 && &ext->at(static_cast<unsigned>(index)).context() == &ctx;
}

bool is_stopped_io_context(const boost::asio::execution_context& ctx) noexcept {
  if (!g_graveyard_used.load(std::memory_order_acquire)) return false;
  Graveyard& g = graveyard();
  std::lock_guard<std::mutex> lock(g.mu);
  for (const auto& w : g.kept) {
    if (&w->context() == &ctx) return true;
  }
  return false;
}

void count_pending(int delta) noexcept { g_pending.fetch_add(delta, std::memory_order_relaxed); }

}  // namespace detail

boost::asio::io_context& io_context_here() {
  if (cogo::detail::SchedulerImpl* s = cogo::detail::SchedulerImpl::current()) {
    detail::SchedulerIo& io = detail::io_of(*s);
    return io.at(static_cast<unsigned>(s->worker_index_here())).context();
  }
  detail::SchedulerIo& io = detail::io_of(Scheduler::default_scheduler().impl());
  return io.at(io.next()).context();
}

std::int64_t pending_operations() noexcept { return detail::g_pending.load(std::memory_order_relaxed); }

}  // namespace cogo::asio
