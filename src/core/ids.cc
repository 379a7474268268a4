#include "weft/core/ids.h"

namespace weft {

std::string NewSortableId(int64_t now_millis, Random& random) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out(26, '0');
  uint64_t time = static_cast<uint64_t>(now_millis < 0 ? 0 : now_millis) & ((1ULL << 48) - 1);
  // 10 characters of time (50 bits, the top two are zero).
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[time & 31];
    time >>= 5;
  }
  uint64_t hi = random.Next();
  uint64_t lo = random.Next();
  // 16 characters of randomness (80 bits).
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  return out;
}

}  // namespace weft
