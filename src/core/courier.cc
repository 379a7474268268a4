#include "weft/core/courier.h"

namespace weft {

std::atomic<int>& Courier::Outstanding() {
  static std::atomic<int> count{0};
  return count;
}

}  // namespace weft
