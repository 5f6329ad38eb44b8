// The runtime's core types shared by tasks, the scheduler and every awaitable. Internal.
//
// A suspended coroutine records where it must resume: a ResumeTarget, which is its
// scheduler when it runs on a worker, or the thread driving a sync_wait. Whoever wakes it
// calls target->resume_later(item), where the item (its WaitState) names the coroutine.
// Awaiting code never resumes a coroutine directly on the waker's stack.
#pragma once

#include <atomic>
#include <coroutine>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>

#include "cogo/detail/config.hpp"
#include "cogo/detail/list.hpp"
#include "cogo/detail/pool.hpp"
#include "cogo/detail/run_item.hpp"

namespace cogo::detail {

class ResumeTarget {
 public:
  // Arranges for item.handle.resume() to run soon, never on the caller's stack.
  // Thread-safe; never allocates. The item must stay valid until it runs.
  virtual void resume_later(RunItem& item) noexcept = 0;
  // The same for a coroutine that yields: behind what is already runnable.
  virtual void yield_later(RunItem& item) noexcept { resume_later(item); }

 protected:
  ~ResumeTarget() = default;
};

// Why a task waits, in Go's words where Go has one.
enum class WaitReason : std::uint8_t {
  none,
  chan_receive,
  chan_send,
  chan_receive_nil,
  chan_send_nil,
  select,
  select_no_cases,
  sleep,
  sync_mutex_lock,
  semacquire,
  context_done,
  timer_receive,
  task_await,
  sync_event,
  sync_once,
  sync_cond_wait,
  sync_rwmutex_rlock,
  sync_rwmutex_lock,
  io_wait,
};
const char* wait_reason_text(WaitReason r) noexcept;

struct TaskRecord;

// A source_location that one thread stores and others load, word by word (see
// TaskRecord's sequence lock for how a torn read is detected).
class AtomicSite {
 public:
  void store(const source_location& s) noexcept {
    std::uintptr_t words[kWords] = {};
    std::memcpy(words, &s, sizeof s);
    for (std::size_t i = 0; i < kWords; ++i) w_[i].store(words[i], std::memory_order_release);
  }
  source_location load() const noexcept {
    std::uintptr_t words[kWords];
    for (std::size_t i = 0; i < kWords; ++i) words[i] = w_[i].load(std::memory_order_acquire);
    source_location s;
    std::memcpy(&s, words, sizeof s);
    return s;
  }

 private:
  static_assert(std::is_trivially_copyable_v<source_location>);
  static constexpr std::size_t kWords = (sizeof(source_location) + sizeof(std::uintptr_t) - 1) /
                                        sizeof(std::uintptr_t);
  std::atomic<std::uintptr_t> w_[kWords] = {};
};

// The per-thread runtime state.
struct ThreadState {
  ResumeTarget* target = nullptr;     // where coroutines suspended on this thread resume
  TaskRecord* task = nullptr;         // the task running on this thread, if any
  void* worker = nullptr;             // the scheduler worker this thread is, if any
  // The trampoline (see resume_loop): the frame to resume next, and a root task that
  // finished and waits for the loop to free it.
  void* next = nullptr;
  void* finished = nullptr;           // PromiseBase*
  bool in_loop = false;
  // A worker's coarse monotonic time, refreshed by its loop (at every visit, and every
  // 16 runs handed straight from task to task): when a task started waiting, for dumps.
  std::int64_t now_coarse = 0;
};
extern thread_local constinit ThreadState tls_runtime;

// The calling thread's state. clang (16) may keep a thread_local's address across a
// coroutine's suspension and use it after the coroutine resumes on another thread
// (llvm-project issues 47179 and 63022), so code that can be inlined into a coroutine
// (every header of cogo) reaches the thread's state through this call, which clang
// cannot see through. g++ does not cache it; there the call is the plain access, except
// in UBSan builds (COGO_OUT_OF_LINE_TLS): g++ 12's null check of an extern thread_local
// misfires once the linker relaxes the TLS access, so only its defining file touches it.
#if defined(__clang__) || defined(COGO_OUT_OF_LINE_TLS)
ThreadState& this_thread() noexcept;
#else
inline ThreadState& this_thread() noexcept { return tls_runtime; }
#endif

// Resumes h, then every coroutine that the resumed ones hand over, one after another at
// constant stack depth, and frees root tasks once their frames are off the stack.
//
// Coroutines transfer control to each other (a task starting a child, a child returning
// to its parent) through this loop instead of by symmetric transfer: g++ 12 emits
// symmetric transfer as a tail call only in optimised, unsanitised builds, and otherwise
// the stack grows with every co_await and a finished frame is returned into.
void resume_loop(std::coroutine_handle<> h) noexcept;

// Transfers control to `to` from an await_suspend: through the loop when one is running
// on this thread, else by symmetric transfer.
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> to) noexcept {
  ThreadState& ts = this_thread();
  if (ts.in_loop) {
    ts.next = to.address();
    return std::noop_coroutine();
  }
  return to;
}

// Where a coroutine suspending on this thread will resume: the thread's target, or the
// default scheduler.
ResumeTarget& resume_target_here() noexcept;

// Throws usage_error if the calling thread is a scheduler worker: `what` (sync_wait,
// Context::wait, ...) would block it. Does nothing on other threads.
void refuse_blocking_wait(const char* what, const source_location& where);

// A task started by go(): its identity and what it is doing. A pooled block that the
// root frame's promise points at; nested frames point at their root's record.
//
// The wait fields are written by the task's own thread and read by dumps on any thread,
// as a sequence lock: `seq` is odd while note_wait writes them. Every field is an atomic
// with release stores and acquire loads (plain moves on x86), so a reader that saw any
// field of a newer wait also sees `seq` changed and retries.
// What a wait is on, in a few words, for dumps ("read 127.0.0.1:5123"): text kept in
// atomic words so that dumps may read it while the task's thread changes it (under the
// record's sequence lock). Allocated on a task's first wait that has one.
struct WaitDetail {
  static constexpr std::size_t kWords = 6;  // 47 characters and a terminator
  std::atomic<std::uint64_t> words[kWords] = {};

  void store(const char* text) noexcept {
    char buf[kWords * 8] = {};
    for (std::size_t i = 0; i + 1 < sizeof buf && text[i] != '\0'; ++i) buf[i] = text[i];
    for (std::size_t i = 0; i < kWords; ++i) {
      std::uint64_t w;
      std::memcpy(&w, buf + i * 8, 8);
      words[i].store(w, std::memory_order_release);
    }
  }
  void clear() noexcept { words[0].store(0, std::memory_order_release); }
  void load(char (&out)[kWords * 8]) const noexcept {
    for (std::size_t i = 0; i < kWords; ++i) {
      const std::uint64_t w = words[i].load(std::memory_order_acquire);
      std::memcpy(out + i * 8, &w, 8);
    }
    out[kWords * 8 - 1] = '\0';
  }
};

struct TaskRecord {
  static constexpr std::uint32_t kMaxFrames = 8;  // await-chain frames remembered

  ListNode registry_link;                 // in its scheduler's registry
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  std::string name;
  source_location start_site;
  // The shard it counts in and is listed in; the shard knows its scheduler.
  void* registry_shard = nullptr;
  void* context = nullptr;                // a bound context node (diag::bind_context), guarded by
                                          // the shard's lock
  std::atomic<std::uint8_t> state{0};     // TaskState
  std::atomic<std::uint8_t> wait_reason{0};
  // Listed in its shard from its first suspension on (see list_task); only the task's
  // own thread reads or writes this.
  bool listed = false;
  std::atomic<std::uint32_t> seq{0};
  AtomicSite wait_site;
  std::atomic<std::int64_t> wait_since{0};   // the worker's now_coarse at the wait
  // The current wait's detail, if it has one (see WaitDetail); owned, freed with the
  // record. Only the task's thread sets the pointer.
  std::atomic<WaitDetail*> detail{nullptr};
  // The await chain: the resume function of each cogo frame, outermost first, as its
  // distance from code_anchor() (4 bytes instead of 8 keeps a parked task small; code
  // more than 2 GiB away is kept as kFarFrame). `depth` may exceed kMaxFrames; the
  // frames beyond are counted, not kept.
  static constexpr std::int32_t kFarFrame = INT32_MIN;
  std::atomic<std::uint32_t> depth{0};
  std::atomic<std::int32_t> frames[kMaxFrames] = {};

  static std::int32_t encode_frame(const void* fn) noexcept {
    const std::intptr_t d = reinterpret_cast<std::intptr_t>(fn) - code_anchor();
    return d > INT32_MIN && d <= INT32_MAX ? static_cast<std::int32_t>(d) : kFarFrame;
  }
  static const void* decode_frame(std::int32_t v) noexcept {
    return v == kFarFrame ? nullptr : reinterpret_cast<const void*>(code_anchor() + v);
  }
  static std::intptr_t code_anchor() noexcept {
    return reinterpret_cast<std::intptr_t>(&frame_anchor);
  }
  static void frame_anchor() noexcept {}

  void push_frame(const void* fn) noexcept {
    const std::uint32_t d = depth.load(std::memory_order_relaxed);
    if (d < kMaxFrames) frames[d].store(encode_frame(fn), std::memory_order_relaxed);
    depth.store(d + 1, std::memory_order_release);
  }
  void pop_frame() noexcept {
    depth.store(depth.load(std::memory_order_relaxed) - 1, std::memory_order_release);
  }

  // A consistent copy of the fields the task's thread changes, for readers on other
  // threads (the read side of the sequence lock).
  struct Reading {
    std::uint8_t state = 0;
    std::uint8_t reason = 0;
    source_location wait_site;
    std::int64_t since = 0;
    std::uint32_t depth = 0;  // may exceed `kept`
    std::uint32_t kept = 0;
    std::int32_t frames[kMaxFrames] = {};
    char detail[WaitDetail::kWords * 8] = {};  // empty: none
  };
  void read(Reading& out) const noexcept {
    for (int attempt = 0; attempt < 16; ++attempt) {
      const std::uint32_t s1 = seq.load(std::memory_order_acquire);
      out.state = state.load(std::memory_order_acquire);
      out.reason = wait_reason.load(std::memory_order_acquire);
      out.wait_site = wait_site.load();
      out.since = wait_since.load(std::memory_order_acquire);
      out.depth = depth.load(std::memory_order_acquire);
      out.kept = out.depth < kMaxFrames ? out.depth : kMaxFrames;
      for (std::uint32_t i = 0; i < out.kept; ++i) {
        out.frames[i] = frames[i].load(std::memory_order_acquire);
      }
      if (const WaitDetail* d = detail.load(std::memory_order_acquire)) {
        d->load(out.detail);
      } else {
        out.detail[0] = '\0';
      }
      const std::uint32_t s2 = seq.load(std::memory_order_relaxed);
      if (s1 == s2 && (s1 & 1U) == 0) return;  // a consistent copy; else it changed: again
    }
  }
};

enum class TaskState : std::uint8_t { runnable = 0, running = 1, waiting = 2 };

// The function a coroutine frame resumes into. g++ and clang both begin a frame with
// its resume function's address (the coroutine ABI both follow); a frame at its final
// suspension may hold null there.
inline const void* frame_function(void* frame_address) noexcept {
  return *static_cast<const void* const*>(frame_address);
}

// The execution trace (cogo/diag/trace.hpp) records through these hooks, which cogo::diag
// installs while a trace records: the core reports events and knows nothing of where
// they go. The table is static storage and is never freed, so a hook loaded just before
// the trace stops may still be called.
struct TraceHooks {
  void (*run)(TaskRecord* t) noexcept;                    // t runs on this thread
  void (*stop)(TaskRecord* t, const char* why) noexcept;  // t stops running here
  void (*spawn)(TaskRecord* t) noexcept;
  void (*cancel)(const source_location& site, bool deadline) noexcept;
};
// Non-null while a trace records.
extern std::atomic<const TraceHooks*> g_tracing;
inline void trace_run(TaskRecord* t) noexcept {
  if (const TraceHooks* h = g_tracing.load(std::memory_order_acquire)) h->run(t);
}
inline void trace_stop(TaskRecord* t, const char* why) noexcept {
  if (const TraceHooks* h = g_tracing.load(std::memory_order_acquire)) h->stop(t, why);
}
inline void trace_spawn(TaskRecord* t) noexcept {
  if (const TraceHooks* h = g_tracing.load(std::memory_order_acquire)) h->spawn(t);
}
inline void trace_cancel(const source_location& site, bool deadline) noexcept {
  if (const TraceHooks* h = g_tracing.load(std::memory_order_acquire)) h->cancel(site, deadline);
}

// Puts `t` on its shard's list, where dumps find it, unless it is there already. Tasks
// are listed from their first suspension: one that runs to its end without waiting
// never costs the registry a lock. Called on the task's own thread.
void list_task_slow(TaskRecord* t) noexcept;
inline void list_task(TaskRecord* t) noexcept {
#if COGO_TASK_REGISTRY
  if (COGO_UNLIKELY(!t->listed)) list_task_slow(t);
#else
  (void)t;
#endif
}

// Marks the current task (if any) waiting for `reason` at `site`; `detail`, if given,
// says on what ("read 127.0.0.1:5123"), in at most 47 characters.
void note_wait(WaitReason reason, const source_location& site, const char* detail = nullptr) noexcept;
// Marks the current task running again (called when a wait ends on this thread).
inline void note_running(TaskRecord* t) noexcept {
  this_thread().task = t;
  if (t != nullptr) {
    t->state.store(static_cast<std::uint8_t>(TaskState::running), std::memory_order_relaxed);
    if (COGO_UNLIKELY(g_tracing.load(std::memory_order_relaxed))) trace_run(t);
  }
}

// The decision of one wait: which of its cases completed. Lives in the awaiting frame.
// A party that can complete case i claims the wait with try_claim(i); only the winner
// transfers a value and wakes the coroutine, so a select never loses a value.
struct WaitState : RunItem {
  static constexpr int kOpen = -1;

  ResumeTarget* target = nullptr;
  TaskRecord* task = nullptr;
  std::atomic<int> winner{kOpen};
  bool single = false;  // one case only: nobody else can claim, skip the CAS

  bool try_claim(int index) noexcept {
    if (single) {
      winner.store(index, std::memory_order_relaxed);
      return true;
    }
    int expected = kOpen;
    return winner.compare_exchange_strong(expected, index, std::memory_order_acq_rel,
                                          std::memory_order_acquire);
  }
  // Set before registering when a case can complete without the awaiter's locks (a
  // timer that fires at once on another worker): such a claim may come while the
  // awaiter is still registering. The waker then leaves the resumption to the awaiter,
  // which sees it in park() and does not suspend, so nobody touches a frame that another
  // thread may already be resuming. Waits whose every case completes under a lock the
  // awaiter holds while registering need none of this.
  bool deferred_wake = false;

  // Records who waits, and where it resumes, before the wait's cases are registered.
  void begin(std::coroutine_handle<> h) noexcept {
    handle = h;
    target = &resume_target_here();
    task = this_thread().task;
  }

  void wake() noexcept {
    if (!deferred_wake || phase.exchange(kWoken, std::memory_order_acq_rel) == kParked) {
      target->resume_later(*this);
    }
  }
  // With deferred_wake, the last step of await_suspend, after which the awaiter touches
  // nothing in its frame. Returns false if a waker came during registration: resume at
  // once.
  bool park() noexcept { return phase.exchange(kParked, std::memory_order_acq_rel) != kWoken; }

 private:
  static constexpr std::uint8_t kRegistering = 0;
  static constexpr std::uint8_t kParked = 1;
  static constexpr std::uint8_t kWoken = 2;
  std::atomic<std::uint8_t> phase{kRegistering};
};

}  // namespace cogo::detail
