// Mutexes the compiler checks: built with clang, -Wthread-safety proves that
// state marked WEFT_GUARDED_BY(mu) is only touched with `mu` held, and that
// functions marked WEFT_REQUIRES(mu) are only called so. With other
// compilers the annotations are empty.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define WEFT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define WEFT_THREAD_ANNOTATION(x)
#endif

#define WEFT_CAPABILITY(x) WEFT_THREAD_ANNOTATION(capability(x))
#define WEFT_SCOPED_CAPABILITY WEFT_THREAD_ANNOTATION(scoped_lockable)
#define WEFT_GUARDED_BY(x) WEFT_THREAD_ANNOTATION(guarded_by(x))
#define WEFT_PT_GUARDED_BY(x) WEFT_THREAD_ANNOTATION(pt_guarded_by(x))
#define WEFT_REQUIRES(...) WEFT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define WEFT_ACQUIRE(...) WEFT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define WEFT_RELEASE(...) WEFT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define WEFT_TRY_ACQUIRE(...) WEFT_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define WEFT_EXCLUDES(...) WEFT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define WEFT_NO_THREAD_SAFETY_ANALYSIS WEFT_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace weft {

class WEFT_CAPABILITY("mutex") Mutex {
 public:
  void lock() WEFT_ACQUIRE() { m_.lock(); }
  void unlock() WEFT_RELEASE() { m_.unlock(); }
  bool try_lock() WEFT_TRY_ACQUIRE(true) { return m_.try_lock(); }

 private:
  std::mutex m_;
};

// Holds a Mutex for its scope; waits on condition variables through it.
class WEFT_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) WEFT_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() WEFT_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex while waiting on `cv` until `done()` (checked with
  // the mutex held).
  template <typename Pred>
  void Wait(std::condition_variable_any& cv, Pred done) {
    cv.wait(mu_, done);
  }
  // Releases the mutex while waiting on `cv` until notified or `deadline`
  // (or spuriously: check what you wait for).
  template <typename Clock, typename Duration>
  void WaitUntil(std::condition_variable_any& cv, std::chrono::time_point<Clock, Duration> deadline) {
    cv.wait_until(mu_, deadline);
  }
  // As Wait, for at most `timeout`; returns done().
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(std::condition_variable_any& cv, std::chrono::duration<Rep, Period> timeout, Pred done) {
    return cv.wait_for(mu_, timeout, done);
  }

 private:
  Mutex& mu_;
};

}  // namespace weft
