// $base64encode $base64decode $encodeUrlComponent $encodeUrl
// $decodeUrlComponent $decodeUrl
#include <cstring>

#include "library.h"
#include "weft/core/encoding.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

Value Base64Encode(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(weft::Base64Encode(a[0].as_string()));
}

// Lenient, as JSONata: characters outside the alphabet are skipped, and
// bytes that are no UTF-8 become replacement characters.
Value Base64Decode(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  std::string clean;
  for (char c : a[0].as_string()) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') clean += c;
  }
  std::string out = weft::Base64Decode(clean).value_or("");
  if (!IsValidUtf8(out)) {
    std::string fixed;
    for (size_t i = 0; i < out.size();) AppendUtf8(fixed, DecodeUtf8(out, i));
    out = std::move(fixed);
  }
  return Value(std::move(out));
}

Value EncodeUrlComponent(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  if (!IsValidUtf8(a[0].as_string())) Fail("D3140", a[0]);
  return Value(PercentEncode(a[0].as_string(), "-_.!~*'()"));
}

Value EncodeUrl(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  if (!IsValidUtf8(a[0].as_string())) Fail("D3140", a[0]);
  return Value(PercentEncode(a[0].as_string(), "-_.!~*'();/?:@&=+$,#"));
}

// decodeURIComponent / decodeURI: the latter keeps escapes of reserved chars.
Value PercentDecode(const Value& v, const char* reserved) {
  const std::string& s = v.as_string();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hexval = [](char c) {
      return (c >= '0' && c <= '9')   ? c - '0'
             : (c >= 'a' && c <= 'f') ? c - 'a' + 10
             : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                      : -1;
    };
    if (i + 2 >= s.size() || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) Fail("D3140", v);
    char c = static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
    if (static_cast<unsigned char>(c) < 0x80 && std::strchr(reserved, c) && c != '\0') {
      out.append(s, i, 3);
    } else {
      out += c;
    }
    i += 2;
  }
  if (!IsValidUtf8(out)) Fail("D3140", v);
  return Value(std::move(out));
}

Value DecodeUrlComponent(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return PercentDecode(a[0], "");
}

Value DecodeUrl(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return PercentDecode(a[0], ";/?:@&=+$,#");
}

}  // namespace

const std::vector<BuiltinDef>& EncodingBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"base64encode", "<s-:s>", Base64Encode, 1},
      {"base64decode", "<s-:s>", Base64Decode, 1},
      {"encodeUrlComponent", "<s-:s>", EncodeUrlComponent, 1},
      {"encodeUrl", "<s-:s>", EncodeUrl, 1},
      {"decodeUrlComponent", "<s-:s>", DecodeUrlComponent, 1},
      {"decodeUrl", "<s-:s>", DecodeUrl, 1},
  };
  return defs;
}

}  // namespace weft::expr
