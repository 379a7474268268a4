// Byte encodings: base64 (RFC 4648), percent-encoding, hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

std::string Base64Encode(std::string_view s);
// Skips padding; nullopt on a character outside the alphabet.
std::optional<std::string> Base64Decode(std::string_view s);

// Percent-encodes every byte but ASCII letters, digits and those in `keep`.
std::string PercentEncode(std::string_view s, std::string_view keep);
// As encodeURIComponent.
inline std::string UrlComponentEncode(std::string_view s) { return PercentEncode(s, "-_.!~*'()"); }

std::string HexEncode(std::string_view bytes);

// ASCII letters lower-cased (header names, media types, cron names).
std::string AsciiLower(std::string_view s);
// Without leading and trailing spaces, tabs, carriage returns and newlines.
std::string_view TrimSpace(std::string_view s);

// The pieces of `text` between `separator`s, empty ones left out
// ("a,,b" -> {a, b}).
std::vector<std::string> SplitList(std::string_view text, char separator);

}  // namespace weft
