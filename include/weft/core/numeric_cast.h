// Saturating conversions from double (JSON numbers) to integers. Casting an
// out-of-range double to an integer type is undefined behaviour in C++, and
// user data decides these values, so every such conversion goes through here.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace weft {

// Truncates toward zero; NaN gives 0; values beyond the range saturate.
inline int64_t SaturatingInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

inline int SaturatingInt(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 2147483647.0) return std::numeric_limits<int>::max();
  if (d <= -2147483648.0) return std::numeric_limits<int>::min();
  return static_cast<int>(d);
}

// Negative values give 0.
inline size_t SaturatingSize(double d) {
  if (std::isnan(d) || d <= 0) return 0;
  if (d >= 1.8e19) return std::numeric_limits<size_t>::max();
  return static_cast<size_t>(d);
}

}  // namespace weft
