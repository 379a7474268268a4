// What both backends store the same way.
#include "backend.h"

#include <cstring>

#include "weft/core/encoding.h"

namespace weft::knowledge::internal {
namespace {
constexpr char kTagSeparator = '\x1f';
}  // namespace

std::string PackVector(const std::vector<float>& v) {
  std::string out(v.size() * sizeof(float), '\0');
  std::memcpy(out.data(), v.data(), out.size());  // x86-64 and arm64 are little-endian
  return out;
}

std::vector<float> UnpackVector(std::string_view bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& t : tags) {
    if (!out.empty()) out += kTagSeparator;
    for (char c : t)
      if (c != kTagSeparator) out += c;
  }
  return out;
}

std::vector<std::string> SplitTags(std::string_view joined) { return SplitList(joined, kTagSeparator); }

std::string SectionOf(std::string_view title, std::string_view heading) {
  if (heading.substr(0, title.size()) == title) {
    heading.remove_prefix(title.size());
    if (heading.substr(0, 3) == " > ") heading.remove_prefix(3);
  }
  return std::string(heading);
}

}  // namespace weft::knowledge::internal
