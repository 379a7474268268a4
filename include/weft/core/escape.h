// JSON string escapes (\" \\ \/ \b \f \n \r \t \uXXXX, with surrogate pairs),
// shared by the JSON parser and the expression lexer, whose string literals
// use the same escapes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace weft {

enum class EscapeResult { kOk, kUnknownEscape, kBadUnicodeEscape };

// `pos` indexes the character after a backslash. Appends the decoded text to
// `out` and leaves `pos` after the escape. On failure `pos` is unchanged.
// A lone surrogate decodes to U+FFFD.
EscapeResult DecodeEscape(std::string_view text, size_t& pos, std::string& out);

}  // namespace weft
