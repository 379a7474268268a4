// The stable merge sort JSONata specifies for $sort and order-by. The
// comparator answers "should a come after b?"; it may be a user function and
// need not be consistent, so std::sort (which assumes a strict weak ordering)
// is not used.
#pragma once

#include <algorithm>
#include <vector>

namespace weft::expr {

template <typename Vector, typename After>
void MergeSort(Vector& items, After&& after) {
  if (items.size() < 2) return;
  Vector buf(items.size());
  for (size_t width = 1; width < items.size(); width *= 2) {
    for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
      size_t mid = std::min(lo + width, items.size());
      size_t hi = std::min(lo + 2 * width, items.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (after(items[i], items[j])) {
          buf[k++] = std::move(items[j++]);
        } else {
          buf[k++] = std::move(items[i++]);
        }
      }
      while (i < mid) buf[k++] = std::move(items[i++]);
      while (j < hi) buf[k++] = std::move(items[j++]);
    }
    items.swap(buf);
  }
}

}  // namespace weft::expr
