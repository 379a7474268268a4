// Clock: the injectable source of time. Production code uses SystemClock;
// tests use SimulatedClock, whose time moves only when the test says so.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
  // Monotonic time in nanoseconds from an arbitrary origin, for deadlines.
  virtual int64_t MonotonicNanos() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  int64_t MonotonicNanos() const override;
  // A process-wide instance; stateless, so sharing it is safe.
  static const SystemClock& Instance();
};

// Thread-safe manual clock for tests.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(int64_t start_millis = 0) : millis_(start_millis) {}
  int64_t NowMillis() const override { return millis_.load(); }
  int64_t MonotonicNanos() const override { return millis_.load() * 1'000'000; }
  void AdvanceMillis(int64_t ms) { millis_.fetch_add(ms); }
  void SetMillis(int64_t ms) { millis_.store(ms); }

 private:
  std::atomic<int64_t> millis_;
};

}  // namespace weft
