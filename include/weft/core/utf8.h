// UTF-8 helpers. weft stores text as UTF-8; JSONata counts and indexes
// strings by Unicode code point, which these helpers make cheap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

// Appends the UTF-8 encoding of a code point (invalid ones become U+FFFD).
void AppendUtf8(std::string& out, uint32_t cp);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t ValidUtf8SequenceLength(std::string_view s, size_t i);

// True when the whole string is valid UTF-8.
bool IsValidUtf8(std::string_view s);

// Number of code points (invalid bytes count as one each).
size_t Utf8Length(std::string_view s);

// Decodes the code point at s[i] and advances i (invalid bytes give U+FFFD).
uint32_t DecodeUtf8(std::string_view s, size_t& i);

// Byte offset of the code point with index `cp_index` (s.size() if past end).
size_t Utf8Offset(std::string_view s, size_t cp_index);

// Converts between code point indexes and byte offsets in one string, for
// positions that mostly move forward (successive matches of a scan): linear
// over the whole scan, where calling Utf8Offset for each would be quadratic.
// The string must outlive the cursor.
class Utf8Cursor {
 public:
  explicit Utf8Cursor(std::string_view s) : s_(s) {}
  // Byte offset of code point `cp` (s.size() if past the end).
  size_t ByteAt(size_t cp);
  // Code point index of byte offset `byte` (which starts a sequence).
  size_t CodePointAt(size_t byte);

 private:
  std::string_view s_;
  size_t byte_ = 0;
  size_t cp_ = 0;
};

// Decodes the whole string into code points.
std::vector<uint32_t> Utf8ToCodePoints(std::string_view s);

}  // namespace weft
