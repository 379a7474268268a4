// libFuzzer target for the JSON parser and writer: parse, write, re-parse,
// and check the round trip is stable.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "weft/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = weft::ParseJson(text);
  if (!v.ok()) return 0;
  std::string once = weft::ToJson(*v);
  auto again = weft::ParseJson(once);
  if (!again.ok() || weft::ToJson(*again) != once) std::abort();
  return 0;
}
