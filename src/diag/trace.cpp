// The execution trace: per-thread event buffers and their Chrome trace-event JSON.
#include "cogo/diag/trace.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "cogo/detail/format.hpp"
#include "cogo/detail/futex.hpp"
#include "cogo/detail/runtime.hpp"

namespace cogo {
namespace detail {

namespace {

struct Event {
  char phase;               // 'B', 'E' or 'i'
  std::int64_t ns;          // monotonic
  std::uint64_t task;       // 0 for a cancel
  std::string name;         // B: the task; i: what happened
  std::string detail;       // E: why it stopped; i: the site
};

// One thread's events. Only its thread appends; the writer reads under the lock.
struct Buffer {
  std::mutex mu;
  std::vector<Event> events;
  std::uint64_t open = 0;   // the task whose stretch is open here (B without E), or 0
  int tid = 0;
};

struct Trace {
  std::mutex mu;
  std::vector<std::unique_ptr<Buffer>> buffers;  // never shrinks: threads keep pointers
  std::uint64_t epoch = 0;                        // bumped by start()
  std::int64_t start_ns = 0;
};

Trace& trace_state() {
  static auto* t = new Trace;  // never destroyed: threads may record during exit
  return *t;
}

struct ThreadBuffer {
  Buffer* buf = nullptr;
  std::uint64_t epoch = 0;
};
thread_local constinit ThreadBuffer tls_buffer{};

Buffer* my_buffer() {
  Trace& t = trace_state();
  ThreadBuffer& tb = tls_buffer;
  if (tb.buf == nullptr) {
    std::lock_guard<std::mutex> g(t.mu);
    t.buffers.push_back(std::make_unique<Buffer>());
    tb.buf = t.buffers.back().get();
    tb.buf->tid = static_cast<int>(t.buffers.size());
  }
  return tb.buf;
}

std::string task_title(const TaskRecord* r) {
  std::string s = "task " + std::to_string(r->id);
  if (!r->name.empty()) s += " " + r->name;
  return s;
}

void add(Event e) noexcept {
  try {
    Buffer* b = my_buffer();
    std::lock_guard<std::mutex> g(b->mu);
    if (e.phase == 'B') {
      if (b->open == e.task) return;  // still the same stretch (a child task returned)
      if (b->open != 0) b->events.push_back(Event{'E', e.ns, b->open, {}, "switched"});
      b->open = e.task;
    } else if (e.phase == 'E') {
      if (b->open != e.task) return;  // not running here (stopped before it was recorded)
      b->open = 0;
    }
    b->events.push_back(std::move(e));
  } catch (...) {
    // Out of memory: the event is dropped.
  }
}

void json_string(std::ostream& os, const std::string& s) {
  os << '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      os << '\\' << c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      os << buf;
    } else {
      os << c;
    }
  }
  os << '"';
}

void record_run(TaskRecord* t) noexcept {
  try {
    add(Event{'B', monotonic_ns(), t->id, task_title(t), {}});
  } catch (...) {
  }
}

void record_stop(TaskRecord* t, const char* why) noexcept {
  try {
    add(Event{'E', monotonic_ns(), t->id, {}, why});
  } catch (...) {
  }
}

void record_spawn(TaskRecord* t) noexcept {
  try {
    std::string site;
    append_site(site, t->start_site);
    add(Event{'i', monotonic_ns(), t->id, "start " + task_title(t), site});
  } catch (...) {
  }
}

void record_cancel(const source_location& where, bool deadline) noexcept {
  try {
    std::string site;
    append_site(site, where);
    add(Event{'i', monotonic_ns(), 0, deadline ? "context deadline exceeded" : "context canceled",
              site});
  } catch (...) {
  }
}

const TraceHooks kHooks{&record_run, &record_stop, &record_spawn, &record_cancel};

}  // namespace
}  // namespace detail

namespace diag::trace {

void start() {
  detail::Trace& t = detail::trace_state();
  {
    std::lock_guard<std::mutex> g(t.mu);
    for (auto& b : t.buffers) {
      std::lock_guard<std::mutex> bg(b->mu);
      b->events.clear();
      b->open = 0;
    }
    t.start_ns = detail::monotonic_ns();
  }
  detail::g_tracing.store(&detail::kHooks, std::memory_order_release);
}

void stop() { detail::g_tracing.store(nullptr, std::memory_order_release); }

bool recording() noexcept { return detail::g_tracing.load(std::memory_order_acquire) != nullptr; }

std::size_t event_count() {
  detail::Trace& t = detail::trace_state();
  std::lock_guard<std::mutex> g(t.mu);
  std::size_t n = 0;
  for (auto& b : t.buffers) {
    std::lock_guard<std::mutex> bg(b->mu);
    n += b->events.size();
  }
  return n;
}

void write_json(std::ostream& os) {
  detail::Trace& t = detail::trace_state();
  const std::int64_t now = detail::monotonic_ns();
  const long pid = static_cast<long>(::getpid());
  std::lock_guard<std::mutex> g(t.mu);
  os << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  bool first = true;
  auto begin_event = [&] {
    if (!first) os << ',';
    first = false;
    os << "\n{";
  };
  auto ts = [&](std::int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns - t.start_ns) / 1000.0);
    return std::string(buf);
  };
  for (auto& b : t.buffers) {
    std::lock_guard<std::mutex> bg(b->mu);
    if (b->events.empty()) continue;
    begin_event();
    os << "\"ph\":\"M\",\"name\":\"thread_name\",\"ts\":0,\"pid\":" << pid << ",\"tid\":" << b->tid
       << ",\"args\":{\"name\":\"cogo thread " << b->tid << "\"}}";
    std::uint64_t open = 0;
    for (const detail::Event& e : b->events) {
      begin_event();
      os << "\"ph\":\"" << e.phase << "\",\"ts\":" << ts(e.ns) << ",\"pid\":" << pid
         << ",\"tid\":" << b->tid;
      if (e.phase == 'B') {
        os << ",\"name\":";
        detail::json_string(os, e.name);
        os << ",\"cat\":\"task\",\"args\":{\"task\":" << e.task << "}}";
        open = e.task;
      } else if (e.phase == 'E') {
        os << ",\"args\":{\"task\":" << e.task << ",\"why\":";
        detail::json_string(os, e.detail);
        os << "}}";
        open = 0;
      } else {
        os << ",\"s\":\"t\",\"name\":";
        detail::json_string(os, e.name);
        os << ",\"cat\":\"" << (e.task != 0 ? "task" : "context") << "\",\"args\":{\"site\":";
        detail::json_string(os, e.detail);
        os << "}}";
      }
    }
    if (open != 0) {  // still running when recording stopped: end it now
      begin_event();
      os << "\"ph\":\"E\",\"ts\":" << ts(now) << ",\"pid\":" << pid << ",\"tid\":" << b->tid
         << ",\"args\":{\"task\":" << open << ",\"why\":\"trace ended\"}}";
    }
  }
  os << "\n]}\n";
}

}  // namespace diag::trace
}  // namespace cogo
