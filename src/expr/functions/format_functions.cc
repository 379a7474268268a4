// $formatNumber (XPath F&O 3.1 format-number), $formatInteger and
// $parseInteger (XPath format-integer pictures).
#include <cmath>
#include <numeric>

#include "integer_format.h"
#include "library.h"
#include "weft/core/number_format.h"

namespace weft::expr {
namespace {

using U32 = std::u32string;

struct DecimalFormat {
  char32_t decimal = U'.', grouping = U',', exponent = U'e', minus = U'-', percent = U'%', permille = 0x2030,
           zero = U'0', digit = U'#', pattern = U';';
  U32 infinity = U"Infinity", nan = U"NaN";
};

struct PictureParts {
  U32 prefix, suffix, active, mantissa, integer, fractional, sub;
  bool has_exponent = false;
  U32 exponent;
};

struct PictureVars {
  std::vector<int> int_groups;
  int regular = 0;
  int min_int = 0;
  int scaling = 0;
  U32 prefix, suffix, picture;
  std::vector<int> frac_groups;
  int min_frac = 0, max_frac = 0, min_exp = 0;
};

bool IsDigitOf(const DecimalFormat& p, char32_t c) { return c >= p.zero && c < p.zero + 10; }

bool IsActive(const DecimalFormat& p, char32_t c) {
  return IsDigitOf(p, c) || c == p.decimal || c == p.exponent || c == p.grouping || c == p.digit || c == p.pattern;
}

size_t Count(const U32& s, char32_t c) { return static_cast<size_t>(std::count(s.begin(), s.end(), c)); }

PictureParts SplitParts(const DecimalFormat& p, const U32& sub) {
  PictureParts r;
  r.sub = sub;
  size_t i = 0;
  while (i < sub.size() && !(IsActive(p, sub[i]) && sub[i] != p.exponent)) ++i;
  r.prefix = sub.substr(0, i);
  size_t j = sub.size();
  while (j > 0 && !(IsActive(p, sub[j - 1]) && sub[j - 1] != p.exponent)) --j;
  if (i == sub.size()) j = 0;  // no active character at all: the suffix is everything too
  r.suffix = sub.substr(j);
  // JavaScript's substring() swaps reversed bounds; JSONata relies on it.
  size_t a0 = std::min(i, j), a1 = std::max(i, j);
  r.active = sub.substr(a0, a1 - a0);
  size_t epos = sub.find(p.exponent, r.prefix.size());
  if (epos == U32::npos || epos > sub.size() - r.suffix.size()) {
    r.mantissa = r.active;
  } else {
    r.mantissa = r.active.substr(0, epos);
    r.exponent = r.active.size() > epos ? r.active.substr(epos + 1) : U32();
    r.has_exponent = true;
  }
  size_t dpos = r.mantissa.find(p.decimal);
  if (dpos == U32::npos) {
    r.integer = r.mantissa;
    r.fractional = r.suffix;
  } else {
    r.integer = r.mantissa.substr(0, dpos);
    r.fractional = r.mantissa.substr(dpos + 1);
  }
  return r;
}

void Validate(const DecimalFormat& p, const PictureParts& parts) {
  const U32& s = parts.sub;
  const char* error = nullptr;
  size_t dpos = s.find(p.decimal);
  if (Count(s, p.decimal) > 1) error = "D3081";
  if (Count(s, p.percent) > 1) error = "D3082";
  if (Count(s, p.permille) > 1) error = "D3083";
  if (Count(s, p.percent) && Count(s, p.permille)) error = "D3084";
  bool valid = false;
  for (char32_t c : parts.mantissa)
    if (IsDigitOf(p, c) || c == p.digit) valid = true;
  if (!valid) error = "D3085";
  for (char32_t c : parts.active)
    if (!IsActive(p, c)) error = "D3086";
  if (dpos != U32::npos) {
    if ((dpos > 0 && s[dpos - 1] == p.grouping) || (dpos + 1 < s.size() && s[dpos + 1] == p.grouping)) error = "D3087";
  } else if (!parts.integer.empty() && parts.integer.back() == p.grouping) {
    error = "D3088";
  }
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (s[i] == p.grouping && s[i + 1] == p.grouping) error = "D3089";
  size_t opt = parts.integer.find(p.digit);
  if (opt != U32::npos) {
    for (size_t i = 0; i < opt; ++i)
      if (IsDigitOf(p, parts.integer[i])) error = "D3090";
  }
  size_t last_opt = parts.fractional.rfind(p.digit);
  if (last_opt != U32::npos) {
    for (size_t i = last_opt; i < parts.fractional.size(); ++i)
      if (IsDigitOf(p, parts.fractional[i])) error = "D3091";
  }
  if (parts.has_exponent && !parts.exponent.empty() && (Count(s, p.percent) || Count(s, p.permille))) error = "D3092";
  if (parts.has_exponent) {
    bool bad = parts.exponent.empty();
    for (char32_t c : parts.exponent)
      if (!IsDigitOf(p, c)) bad = true;
    if (bad) error = "D3093";
  }
  if (error) throw JsonataError(error);
}

std::vector<int> GroupingPositions(const DecimalFormat& p, const U32& part, const U32& integer_part, bool to_left) {
  std::vector<int> positions;
  size_t g = part.find(p.grouping);
  while (g != U32::npos) {
    U32 side = to_left ? part.substr(0, g) : part.substr(g);
    int n = 0;
    for (char32_t c : side)
      if (IsDigitOf(p, c) || c == p.digit) ++n;
    positions.push_back(n);
    // (JSONata searches the integer part for the next separator here.)
    g = integer_part.find(p.grouping, g + 1);
  }
  return positions;
}

PictureVars Analyse(const DecimalFormat& p, const PictureParts& parts) {
  PictureVars v;
  v.int_groups = GroupingPositions(p, parts.integer, parts.integer, false);
  if (!v.int_groups.empty()) {
    int g = 0;
    for (int x : v.int_groups) g = std::gcd(g, x);
    v.regular = g;
    for (size_t i = 1; i <= v.int_groups.size() && v.regular; ++i) {
      if (std::find(v.int_groups.begin(), v.int_groups.end(), static_cast<int>(i) * g) == v.int_groups.end())
        v.regular = 0;
    }
  }
  v.frac_groups = GroupingPositions(p, parts.fractional, parts.integer, true);
  for (char32_t c : parts.integer)
    if (IsDigitOf(p, c)) ++v.min_int;
  v.scaling = v.min_int;
  for (char32_t c : parts.fractional) {
    if (IsDigitOf(p, c)) ++v.min_frac;
    if (IsDigitOf(p, c) || c == p.digit) ++v.max_frac;
  }
  if (v.min_int == 0 && v.max_frac == 0) {
    if (parts.has_exponent) {
      v.min_frac = 1;
      v.max_frac = 1;
    } else {
      v.min_int = 1;
    }
  }
  if (parts.has_exponent && v.min_int == 0 && parts.integer.find(p.digit) != U32::npos) v.min_int = 1;
  if (v.min_int == 0 && v.min_frac == 0) v.min_frac = 1;
  if (parts.has_exponent) {
    for (char32_t c : parts.exponent)
      if (IsDigitOf(p, c)) ++v.min_exp;
  }
  v.prefix = parts.prefix;
  v.suffix = parts.suffix;
  v.picture = parts.sub;
  return v;
}

Value FormatNumber(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  double value = a[0].as_number();
  if (!std::isfinite(value)) throw JsonataError("D3001");  // no digits to lay out
  DecimalFormat p;
  if (Arg(a, 2).is_object()) {
    for (const auto& m : a[2].members()) {
      if (!m.value.is_string()) continue;
      U32 v = ToU32(m.value.as_string());
      char32_t c = v.empty() ? 0 : v[0];
      if (m.key == "decimal-separator")
        p.decimal = c;
      else if (m.key == "grouping-separator")
        p.grouping = c;
      else if (m.key == "exponent-separator")
        p.exponent = c;
      else if (m.key == "minus-sign")
        p.minus = c;
      else if (m.key == "percent")
        p.percent = c;
      else if (m.key == "per-mille")
        p.permille = c;
      else if (m.key == "zero-digit")
        p.zero = c;
      else if (m.key == "digit")
        p.digit = c;
      else if (m.key == "pattern-separator")
        p.pattern = c;
      else if (m.key == "infinity")
        p.infinity = v;
      else if (m.key == "NaN")
        p.nan = v;
    }
  }
  U32 picture = ToU32(a[1].as_string());
  std::vector<U32> subs;
  {
    U32 cur;
    for (char32_t c : picture) {
      if (c == p.pattern) {
        subs.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    subs.push_back(cur);
  }
  if (subs.size() > 2) throw JsonataError("D3080");
  std::vector<PictureParts> parts;
  parts.reserve(subs.size());
  for (const auto& s : subs) parts.push_back(SplitParts(p, s));
  for (const auto& pp : parts) Validate(p, pp);
  std::vector<PictureVars> vars;
  vars.reserve(parts.size() + 1);
  for (const auto& pp : parts) vars.push_back(Analyse(p, pp));
  if (vars.size() == 1) {
    vars.push_back(vars[0]);
    vars[1].prefix = U32(1, p.minus) + vars[1].prefix;
  }
  const PictureVars& pic = value >= 0 ? vars[0] : vars[1];
  double adjusted = value;
  if (pic.picture.find(p.percent) != U32::npos) {
    adjusted = value * 100;
  } else if (pic.picture.find(p.permille) != U32::npos) {
    adjusted = value * 1000;
  }
  // The sign is carried by the sub-picture's prefix; digits come from |x|.
  double mantissa = std::fabs(adjusted);
  bool has_exp = pic.min_exp > 0;
  int exponent = 0;
  if (has_exp && mantissa != 0 && std::isfinite(mantissa)) {
    double max_m = std::pow(10, pic.scaling);
    double min_m = std::pow(10, pic.scaling - 1);
    while (mantissa < min_m && mantissa != 0) {
      mantissa *= 10;
      exponent -= 1;
    }
    while (mantissa > max_m) {
      mantissa /= 10;
      exponent += 1;
    }
  }
  double rounded = RoundHalfEven(mantissa, pic.max_frac);  // $round semantics
  auto make_string = [&](double v, int dp) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", dp, std::fabs(v));
    U32 s = ToU32(buf);
    if (p.zero != U'0') {
      for (auto& c : s)
        if (c >= U'0' && c <= U'9') c = p.zero + (c - U'0');
    }
    return s;
  };
  U32 s = make_string(rounded, pic.max_frac);
  size_t dot = s.find(U'.');
  if (dot == U32::npos) {
    s += p.decimal;
  } else {
    s[dot] = p.decimal;
  }
  while (!s.empty() && s.front() == p.zero) s.erase(0, 1);
  while (!s.empty() && s.back() == p.zero) s.pop_back();
  auto dpos = static_cast<int>(s.find(p.decimal));
  int pad_left = pic.min_int - dpos;
  int pad_right = pic.min_frac - (static_cast<int>(s.size()) - dpos - 1);
  if (pad_left > 0) s.insert(0, static_cast<size_t>(pad_left), p.zero);
  if (pad_right > 0) s.append(static_cast<size_t>(pad_right), p.zero);
  dpos = static_cast<int>(s.find(p.decimal));
  if (pic.regular > 0) {
    int groups = (dpos - 1) / pic.regular;
    for (int g = 1; g <= groups; ++g) s.insert(static_cast<size_t>(dpos - g * pic.regular), 1, p.grouping);
  } else {
    for (int pos : pic.int_groups) {
      // JavaScript slice() semantics: a negative index counts from the end.
      int at = dpos - pos;
      if (at < 0) at = std::max(0, static_cast<int>(s.size()) + at);
      s.insert(static_cast<size_t>(at), 1, p.grouping);
      ++dpos;
    }
  }
  dpos = static_cast<int>(s.find(p.decimal));
  for (int pos : pic.frac_groups) {
    // JavaScript slice() semantics: a position past the end appends.
    size_t at = std::min(static_cast<size_t>(pos) + static_cast<size_t>(dpos) + 1, s.size());
    s.insert(at, 1, p.grouping);
  }
  dpos = static_cast<int>(s.find(p.decimal));
  if (pic.frac_groups.empty() && dpos == static_cast<int>(s.size()) - 1) s.pop_back();
  if (has_exp) {
    U32 e = make_string(exponent, 0);
    int pl = pic.min_exp - static_cast<int>(e.size());
    if (pl > 0) e.insert(0, static_cast<size_t>(pl), p.zero);
    s += p.exponent;
    if (exponent < 0) s += p.minus;
    s += e;
  }
  return Value(FromU32(pic.prefix + s + pic.suffix));
}

Value FormatInteger(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  IntegerPicture f = AnalyseIntegerPicture(a[1].as_string());
  return Value(FormatIntegerWith(std::floor(a[0].as_number()), f));
}

Value ParseInteger(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  IntegerPicture f = AnalyseIntegerPicture(a[1].as_string());
  double out;
  if (!ParseIntegerWith(a[0].as_string(), f, out)) return Value();
  return Value(out);
}

}  // namespace

const std::vector<BuiltinDef>& FormatBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"formatNumber", "<n-so?:s>", FormatNumber, 3},
      {"formatInteger", "<n-s:s>", FormatInteger, 2},
      {"parseInteger", "<s-s:n>", ParseInteger, 2},
  };
  return defs;
}

}  // namespace weft::expr
