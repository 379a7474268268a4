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

// Decodes the whole string into code points.
std::vector<uint32_t> Utf8ToCodePoints(std::string_view s);

}  // namespace weft
