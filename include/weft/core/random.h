// Random: the injectable source of randomness (retry jitter, ids, run seeds).
// Tests use a seeded generator so that every draw repeats.
#pragma once

#include <cstdint>
#include <random>

#include "weft/core/mutex.h"

namespace weft {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;
  // Uniform in [0, 1).
  double NextUnit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

// A thread-safe 64-bit Mersenne Twister; seeded from std::random_device when
// no seed is given.
class DefaultRandom final : public Random {
 public:
  DefaultRandom() : rng_(std::random_device{}()) {}
  explicit DefaultRandom(uint64_t seed) : rng_(seed) {}
  uint64_t Next() override {
    MutexLock lock(mu_);
    return rng_();
  }

 private:
  Mutex mu_;
  std::mt19937_64 rng_ WEFT_GUARDED_BY(mu_);
};

}  // namespace weft
