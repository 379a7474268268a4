// $string $substring $substringBefore $substringAfter $lowercase $uppercase
// $length $trim $pad $join $contains $split $replace (string patterns; regex
// patterns go through the matcher protocol in regex_functions.cc).
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <cmath>

#include "library.h"
#include "weft/core/numeric_cast.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

// Full Unicode case mapping, locale-independent like JavaScript's
// toUpperCase/toLowerCase (ß -> SS, final sigma, ...). ASCII is mapped
// directly; anything else goes through ICU.
std::string MapCase(const std::string& s, bool upper) {
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    std::string out = s;
    for (auto& c : out) {
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  if (upper) {
    u.toUpper(icu::Locale::getRoot());
  } else {
    u.toLower(icu::Locale::getRoot());
  }
  std::string out;
  u.toUTF8String(out);
  return out;
}

// JavaScript Array.prototype.slice index normalisation.
int64_t SliceIndex(double rel, int64_t len) {
  if (std::isnan(rel)) return 0;
  double r = std::trunc(rel);
  if (r < 0) return std::max<int64_t>(0, len + static_cast<int64_t>(std::max(r, -9e15)));
  return std::min<int64_t>(len, static_cast<int64_t>(std::min(r, 9e15)));
}

std::string SliceCodePoints(const std::string& s, const std::vector<uint32_t>& cps, double start, double end,
                            bool has_end) {
  (void)s;
  auto len = static_cast<int64_t>(cps.size());
  int64_t a = SliceIndex(start, len);
  int64_t b = has_end ? SliceIndex(end, len) : len;
  std::string out;
  for (int64_t i = a; i < b; ++i) AppendUtf8(out, cps[static_cast<size_t>(i)]);
  return out;
}

Value String(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  bool pretty = a.size() > 1 && a[1].is_bool() && a[1].as_bool();
  return Value(StringifyValue(a[0], pretty));
}

Value Substring(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  double start = a[1].as_number();
  bool all_ascii = true;
  for (unsigned char c : s)
    if (c >= 0x80) {
      all_ascii = false;
      break;
    }
  std::vector<uint32_t> cps;
  if (!all_ascii) cps = Utf8ToCodePoints(s);
  auto len = static_cast<double>(all_ascii ? s.size() : cps.size());
  if (len + start < 0) start = 0;
  bool has_len = Arg(a, 2).is_defined();
  double end = 0;
  if (has_len) {
    double length = a[2].as_number();
    if (length <= 0) return Value(std::string());
    end = start >= 0 ? start + length : len + start + length;
  }
  if (all_ascii) {
    auto n = static_cast<int64_t>(s.size());
    int64_t x = SliceIndex(start, n);
    int64_t y = has_len ? SliceIndex(end, n) : n;
    if (y <= x) return Value(std::string());
    return Value(s.substr(static_cast<size_t>(x), static_cast<size_t>(y - x)));
  }
  return Value(SliceCodePoints(s, cps, start, end, has_len));
}

Value SubstringBefore(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  if (a[1].is_undefined()) return a[0];
  const std::string& s = a[0].as_string();
  size_t pos = s.find(a[1].as_string());
  return pos == std::string::npos ? a[0] : Value(s.substr(0, pos));
}

Value SubstringAfter(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  if (a[1].is_undefined()) return a[0];
  const std::string& s = a[0].as_string();
  const std::string& chars = a[1].as_string();
  size_t pos = s.find(chars);
  return pos == std::string::npos ? a[0] : Value(s.substr(pos + chars.size()));
}

Value Lowercase(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(MapCase(a[0].as_string(), false));
}

Value Uppercase(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(MapCase(a[0].as_string(), true));
}

Value Length(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(Utf8Length(a[0].as_string()));
}

Value Trim(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  std::string out;
  out.reserve(s.size());
  bool in_space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!in_space) out += ' ';
      in_space = true;
    } else {
      out += c;
      in_space = false;
    }
  }
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return Value(std::move(out));
}

Value Pad(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  std::string pad_char = Arg(a, 2).is_string() && !a[2].as_string().empty() ? a[2].as_string() : " ";
  double width = a[1].as_number();
  bool left = width < 0;
  int64_t target = SaturatingInt64(std::floor(std::fabs(width)));
  auto len = static_cast<int64_t>(Utf8Length(s));
  int64_t pad_len = target - len;
  if (pad_len <= 0) return a[0];
  if (pad_len > kMaxStringLength) {
    JsonataError e("U1003");
    e.detail = "$pad would build a string longer than " + std::to_string(kMaxStringLength) + " characters";
    throw e;
  }
  std::vector<uint32_t> pcs = Utf8ToCodePoints(pad_char);
  ExpectMemory(static_cast<size_t>(pad_len) * ((pad_char.size() + pcs.size() - 1) / pcs.size()));
  std::string padding;
  for (int64_t i = 0; i < pad_len; ++i) AppendUtf8(padding, pcs[static_cast<size_t>(i) % pcs.size()]);
  return Value(left ? padding + s : s + padding);
}

Value Join(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  std::string sep = Arg(a, 1).is_string() ? a[1].as_string() : "";
  // One string may be joined many times over: the length is known first.
  size_t total = 0;
  for (const auto& x : a[0].as_array()) total += x.as_string().size() + sep.size();
  ExpectMemory(total);
  std::string out;
  out.reserve(total);
  bool first = true;
  for (const auto& x : a[0].as_array()) {
    if (!first) out += sep;
    first = false;
    out += x.as_string();
  }
  return Value(std::move(out));
}

Value Contains(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  if (a[1].is_string()) return Value(s.find(a[1].as_string()) != std::string::npos);
  MatchResult m;
  return Value(FirstMatch(a[1], a[0], ctx, m));
}

Value Split(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const Value& limit_v = Arg(a, 2);
  if (limit_v.is_defined() && limit_v.as_number() < 0) Fail("D3020", limit_v);
  bool has_limit = limit_v.is_defined();
  auto limit = has_limit ? SaturatingSize(std::floor(limit_v.as_number())) : SIZE_MAX;
  const std::string& s = a[0].as_string();
  Value::Array out;
  if (a[1].is_string()) {
    const std::string& sep = a[1].as_string();
    if (sep.empty()) {
      for (size_t i = 0; i < s.size() && out.size() < limit;) {
        size_t st = i;
        DecodeUtf8(s, i);
        out.emplace_back(s.substr(st, i - st));
      }
    } else {
      size_t pos = 0;
      while (out.size() < limit) {
        size_t f = s.find(sep, pos);
        if (f == std::string::npos) {
          out.emplace_back(s.substr(pos));
          break;
        }
        out.emplace_back(s.substr(pos, f - pos));
        pos = f + sep.size();
      }
    }
    return Value::MakeArray(std::move(out));
  }
  MatchResult m;
  if (!FirstMatch(a[1], a[0], ctx, m)) {
    if (limit > 0) out.emplace_back(s);
    return Value::MakeArray(std::move(out));
  }
  Utf8Cursor cursor(s);
  size_t start = 0;  // code point index
  size_t count = 0;
  bool more = true;
  while (more && count < limit) {
    size_t b0 = cursor.ByteAt(start);
    size_t b1 = cursor.ByteAt(SaturatingSize(m.start));
    out.emplace_back(b1 >= b0 ? s.substr(b0, b1 - b0) : std::string());
    start = SaturatingSize(m.end);
    more = NextMatch(m, ctx);
    ++count;
  }
  if (count < limit) out.emplace_back(s.substr(cursor.ByteAt(start)));
  return Value::MakeArray(std::move(out));
}

// Expands $0, $1.. and $$ in a replacement string for one match.
std::string ExpandReplacement(const std::string& repl, const MatchResult& m) {
  std::string out;
  const auto& groups = m.groups.as_array();
  size_t pos = 0;
  size_t idx = repl.find('$', pos);
  while (idx != std::string::npos && pos < repl.size()) {
    out.append(repl, pos, idx - pos);
    pos = idx + 1;
    char d = pos < repl.size() ? repl[pos] : '\0';
    if (d == '$') {
      out += '$';
      ++pos;
    } else if (d == '0') {
      out += m.match;
      ++pos;
    } else {
      size_t max_digits =
          groups.empty() ? 1 : static_cast<size_t>(std::floor(std::log10(static_cast<double>(groups.size())))) + 1;
      auto parse = [&](size_t n) -> long {
        std::string digits;
        for (size_t k = 0; k < n && pos + k < repl.size() && std::isdigit(static_cast<unsigned char>(repl[pos + k]));
             ++k)
          digits += repl[pos + k];
        return digits.empty() ? -1 : std::stol(digits);
      };
      long g = parse(max_digits);
      if (max_digits > 1 && g > static_cast<long>(groups.size())) g = parse(max_digits - 1);
      if (g >= 0) {
        if (!groups.empty() && g >= 1 && static_cast<size_t>(g) <= groups.size()) {
          const Value& sub = groups[static_cast<size_t>(g - 1)];
          if (sub.is_string()) out += sub.as_string();
        }
        pos += std::to_string(g).size();
      } else {
        out += '$';
      }
    }
    idx = repl.find('$', pos);
  }
  if (pos < repl.size()) out.append(repl, pos, std::string::npos);
  return out;
}

Value Replace(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  if (a[1].is_string() && a[1].as_string().empty()) Fail("D3010", a[1]);
  const Value& limit_v = Arg(a, 3);
  if (limit_v.is_defined() && limit_v.as_number() < 0) Fail("D3011", limit_v);
  size_t limit = limit_v.is_defined() ? SaturatingSize(std::floor(limit_v.as_number())) : SIZE_MAX;
  if (limit == 0) return a[0];
  const Value& replacement = a[2];
  std::string out;
  size_t count = 0;
  if (a[1].is_string()) {
    const std::string& pat = a[1].as_string();
    std::string repl = replacement.is_string() ? replacement.as_string() : std::string();
    size_t pos = 0;
    size_t f = s.find(pat, pos);
    while (f != std::string::npos && count < limit) {
      if ((count & 255) == 0) {
        ExpectMemory(out.size());  // replacements can make it much longer than s
        ctx.ev.Tick();
      }
      out.append(s, pos, f - pos);
      out += repl;
      pos = f + pat.size();
      ++count;
      f = s.find(pat, pos);
    }
    out.append(s, pos, std::string::npos);
    return Value(std::move(out));
  }
  MatchResult m;
  if (!FirstMatch(a[1], a[0], ctx, m)) return a[0];
  Utf8Cursor cursor(s);
  size_t position = 0;  // code points
  bool more = true;
  while (more && count < limit) {
    ExpectMemory(out.size());  // replacements can make it much longer than s
    size_t b0 = cursor.ByteAt(position);
    size_t b1 = cursor.ByteAt(SaturatingSize(m.start));
    if (b1 > b0) out.append(s, b0, b1 - b0);
    if (replacement.is_string()) {
      out += ExpandReplacement(replacement.as_string(), m);
    } else {
      Value mobj = Value::MakeObject();
      mobj.set("match", Value(m.match));
      mobj.set("index", Value(m.start));
      mobj.set("groups", m.groups);
      Value r = ctx.ev.Apply(replacement, {mobj}, kCallbackContext, ctx.env);
      if (!r.is_string()) Fail("D3012", r);
      out += r.as_string();
    }
    position = SaturatingSize(m.start) + Utf8Length(m.match);
    ++count;
    more = NextMatch(m, ctx);
  }
  out.append(s, cursor.ByteAt(position), std::string::npos);
  return Value(std::move(out));
}

}  // namespace

const std::vector<BuiltinDef>& StringBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"string", "<x-b?:s>", String, 1},
      {"substring", "<s-nn?:s>", Substring, 3},
      {"substringBefore", "<s-s:s>", SubstringBefore, 2},
      {"substringAfter", "<s-s:s>", SubstringAfter, 2},
      {"lowercase", "<s-:s>", Lowercase, 1},
      {"uppercase", "<s-:s>", Uppercase, 1},
      {"length", "<s-:n>", Length, 1},
      {"trim", "<s-:s>", Trim, 1},
      {"pad", "<s-ns?:s>", Pad, 3},
      {"join", "<a<s>s?:s>", Join, 2},
      {"contains", "<s-(sf):b>", Contains, 2},
      {"split", "<s-(sf)n?:a<s>>", Split, 3},
      {"replace", "<s-(sf)(sf)n?:s>", Replace, 4},
  };
  return defs;
}

}  // namespace weft::expr
