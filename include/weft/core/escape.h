// JSON string escapes (\" \\ \/ \b \f \n \r \t \uXXXX, with surrogate pairs),
// shared by the JSON parser and the expression lexer, whose string literals
// use the same escapes; and text escaped for HTML and XML.
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

// Text for HTML or XML content and attribute values: & < > " ' escaped.
// With `xml`, control characters XML 1.0 cannot hold (all below U+0020 but
// tab, newline and carriage return) become spaces.
std::string EscapeMarkup(std::string_view text, bool xml = false);

}  // namespace weft
