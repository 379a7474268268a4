// weft::MemoryBudget: a bound on the memory one computation may create.
//
// An expression evaluation runs on one thread from start to end. While a
// MemoryBudget::Scope is alive on a thread, every Value heap node created on
// that thread (strings, arrays and their storage, objects and their members,
// functions) is charged to the installed budget; when the total passes the
// limit, the budget's Exceeded() throws, so the allocation that would pass
// the limit never happens. The count is of bytes created, never credited back
// when freed: it bounds the work a computation does with memory as well as
// the memory it holds, and does not depend on when anything is freed.
//
// Without a Scope nothing is counted (one thread-local load per allocation).
// A budget is used by one thread at a time; it is not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

namespace weft {

class MemoryBudget {
 public:
  // limit_bytes = 0 means no limit.
  explicit MemoryBudget(uint64_t limit_bytes)
      : limit_(limit_bytes == 0 ? std::numeric_limits<uint64_t>::max() : limit_bytes) {}
  virtual ~MemoryBudget() = default;
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  void Charge(size_t bytes) {
    used_ += bytes;
    if (used_ > limit_) Exceeded();
  }
  // Fails now, as Charge would, when `bytes` more would pass the limit;
  // charges nothing otherwise. For code about to build a large string.
  void Expect(size_t bytes) {
    if (used_ > limit_ || bytes > limit_ - used_) {
      used_ = limit_ + (used_ > limit_ ? 0 : 1);
      Exceeded();
    }
  }
  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

  // The budget installed on this thread, or nullptr.
  static MemoryBudget* Current() { return current_; }

  // Installs a budget on this thread for the scope's lifetime (nesting
  // restores the outer one).
  class Scope {
   public:
    explicit Scope(MemoryBudget* b) : saved_(current_) { current_ = b; }
    ~Scope() { current_ = saved_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    MemoryBudget* saved_;
  };

 protected:
  // Called once the limit is passed; must throw (the charge is kept, so
  // every later allocation under this budget fails too).
  [[noreturn]] virtual void Exceeded() = 0;

 private:
  uint64_t used_ = 0;
  uint64_t limit_;
  static inline thread_local MemoryBudget* current_ = nullptr;
};

// Charges the budget installed on this thread, if any.
inline void ChargeMemory(size_t bytes) {
  if (MemoryBudget* b = MemoryBudget::Current()) b->Charge(bytes);
}

// Expect()s of the budget installed on this thread, if any.
inline void ExpectMemory(size_t bytes) {
  if (MemoryBudget* b = MemoryBudget::Current()) b->Expect(bytes);
}

// std::allocator that charges what it allocates to the thread's budget.
template <typename T>
struct BudgetedAllocator {
  using value_type = T;
  BudgetedAllocator() noexcept = default;
  template <typename U>
  BudgetedAllocator(const BudgetedAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) {
    ChargeMemory(n * sizeof(T));  // NOLINT(bugprone-sizeof-expression): T may be a pointer; its size is meant
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }
  template <typename U>
  bool operator==(const BudgetedAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace weft
