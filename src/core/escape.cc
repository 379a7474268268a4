#include "weft/core/escape.h"

#include "weft/core/utf8.h"

namespace weft {
namespace {

bool Hex4(std::string_view s, size_t at, uint32_t& out) {
  if (at + 4 > s.size()) return false;
  out = 0;
  for (size_t k = 0; k < 4; ++k) {
    char h = s[at + k];
    int d = (h >= '0' && h <= '9')   ? h - '0'
            : (h >= 'a' && h <= 'f') ? h - 'a' + 10
            : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                     : -1;
    if (d < 0) return false;
    out = out * 16 + static_cast<uint32_t>(d);
  }
  return true;
}

}  // namespace

EscapeResult DecodeEscape(std::string_view text, size_t& pos, std::string& out) {
  if (pos >= text.size()) return EscapeResult::kUnknownEscape;
  switch (text[pos]) {
    case '"': out += '"'; break;
    case '\\': out += '\\'; break;
    case '/': out += '/'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u': {
      uint32_t cp;
      if (!Hex4(text, pos + 1, cp)) return EscapeResult::kBadUnicodeEscape;
      size_t end = pos + 5;
      uint32_t lo;
      if (cp >= 0xD800 && cp <= 0xDBFF && end + 1 < text.size() && text[end] == '\\' && text[end + 1] == 'u' &&
          Hex4(text, end + 2, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        end += 6;
      }
      AppendUtf8(out, cp);
      pos = end;
      return EscapeResult::kOk;
    }
    default: return EscapeResult::kUnknownEscape;
  }
  ++pos;
  return EscapeResult::kOk;
}

std::string EscapeMarkup(std::string_view text, bool xml) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        const bool control = static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r';
        out += xml && control ? ' ' : c;
    }
  }
  return out;
}

}  // namespace weft
