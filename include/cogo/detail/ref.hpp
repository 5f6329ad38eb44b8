// Intrusive reference counting. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace cogo::detail {

// An atomic reference count. The holder of the last reference may drop it without an
// atomic read-modify-write: nobody else can add a reference without holding one.
class RefCount {
 public:
  explicit RefCount(std::uint32_t initial = 1) noexcept : n_(initial) {}

  void add(std::uint32_t k = 1) noexcept { n_.fetch_add(k, std::memory_order_relaxed); }

  // Returns true if this dropped the last reference.
  bool drop(std::uint32_t k = 1) noexcept {
    if (n_.load(std::memory_order_acquire) == k) return true;
    return n_.fetch_sub(k, std::memory_order_acq_rel) == k;
  }

  // Adds a reference to an object no other thread can reach yet: no atomic
  // read-modify-write needed.
  void add_unshared() noexcept { n_.store(n_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  // For counts that a weak holder may revive with try_add(): every drop is a real
  // decrement, so a count that reached zero stays there.
  bool drop_strict() noexcept { return n_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

  // Adds a reference unless the count already reached zero (the object is being freed).
  // Only for counts whose every drop is drop_strict().
  bool try_add() noexcept {
    std::uint32_t n = n_.load(std::memory_order_relaxed);
    while (n != 0) {
      if (n_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  std::uint32_t load() const noexcept { return n_.load(std::memory_order_relaxed); }
  // True if the caller's reference is the only one: nobody else can add one, and what
  // the holders of the others did before dropping them is visible.
  bool is_sole() const noexcept { return n_.load(std::memory_order_acquire) == 1; }

 private:
  std::atomic<std::uint32_t> n_;
};

// Owning pointer to an object with `void add_ref()` and `void release()`.
template <class T>
class Ref {
 public:
  constexpr Ref() noexcept = default;
  constexpr Ref(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  // Takes over one reference the caller already owns.
  static Ref adopt(T* p) noexcept {
    Ref r;
    r.p_ = p;
    return r;
  }
  // Adds a reference.
  static Ref share(T* p) noexcept {
    if (p) p->add_ref();
    return adopt(p);
  }
  Ref(const Ref& o) noexcept : p_(o.p_) {
    if (p_) p_->add_ref();
  }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  Ref(Ref<U>&& o) noexcept : p_(o.release_ownership()) {}  // NOLINT(google-explicit-constructor)
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_) p_->release();
  }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // Gives up ownership without dropping the reference.
  T* release_ownership() noexcept { return std::exchange(p_, nullptr); }
  void reset() noexcept { Ref().swap(*this); }
  void swap(Ref& o) noexcept { std::swap(p_, o.p_); }

  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

}  // namespace cogo::detail
