// $base64encode $base64decode $encodeUrlComponent $encodeUrl
// $decodeUrlComponent $decodeUrl
#include <cstring>

#include "library.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Value Base64Encode(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                 static_cast<unsigned char>(s[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i < s.size()) {
    uint32_t n = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) n |= static_cast<unsigned char>(s[i + 1]) << 8;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += (i + 1 < s.size()) ? kB64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return Value(std::move(out));
}

Value Base64Decode(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    const char* p = std::strchr(kB64, c);
    if (c == '=' || c == '\0' || !p) continue;
    buf = (buf << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  if (!IsValidUtf8(out)) {
    std::string fixed;
    for (size_t i = 0; i < out.size();) AppendUtf8(fixed, DecodeUtf8(out, i));
    out = std::move(fixed);
  }
  return Value(std::move(out));
}

std::string PercentEncode(const std::string& s, const char* keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::strchr(keep, static_cast<char>(c))) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
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
