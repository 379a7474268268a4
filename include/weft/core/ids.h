// Identifiers: sortable by creation time (48 bits of milliseconds, then 80
// random bits, in Crockford base32 like a ULID), so that listing runs newest
// first is an index scan.
#pragma once

#include <cstdint>
#include <string>

#include "weft/core/random.h"

namespace weft {

// 26 characters, e.g. "01JD3Q8Z4K7M2X9C5V0B1N6R8T".
std::string NewSortableId(int64_t now_millis, Random& random);

}  // namespace weft
