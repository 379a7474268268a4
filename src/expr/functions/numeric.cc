// $number $floor $ceil $round $abs $sqrt $power $random $formatBase
// $boolean $not
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>

#include "library.h"
#include "weft/core/number_format.h"
#include "weft/core/numeric_cast.h"

namespace weft::expr {
namespace {

bool IsDecimalNumberText(const std::string& s) {
  // -?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  size_t d = i;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == d) return false;
  if (i < n && s[i] == '.') {
    ++i;
    size_t f = i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == f) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == e) return false;
  }
  return i == n;
}

bool ParseRadixLiteral(const std::string& s, double& out) {
  if (s.size() < 3 || s[0] != '0') return false;
  int base = 0;
  char k = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
  if (k == 'x') base = 16;
  if (k == 'o') base = 8;
  if (k == 'b') base = 2;
  if (!base) return false;
  double v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : 99;
    if (d >= base) return false;
    v = v * base + d;
  }
  out = v;
  return true;
}

Value Number(std::vector<Value>& a, const CallContext&) {
  const Value& v = a[0];
  if (v.is_undefined()) return Value();
  if (v.is_number()) return v;
  if (v.is_bool()) return Value(v.as_bool() ? 1 : 0);
  if (v.is_string()) {
    const std::string& s = v.as_string();
    if (IsDecimalNumberText(s)) {
      double d = std::strtod(s.c_str(), nullptr);
      if (std::isfinite(d)) return Value(d);
    }
    double r;
    if (ParseRadixLiteral(s, r)) return Value(r);
  }
  Fail("D3030", v, 1);
}

Value Floor(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(std::floor(a[0].as_number()));
}

Value Ceil(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(std::ceil(a[0].as_number()));
}

Value Abs(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(std::fabs(a[0].as_number()));
}

Value Sqrt(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  double x = a[0].as_number();
  if (x < 0) Fail("D3060", a[0]);
  return Value(std::sqrt(x));
}

Value Power(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  double r = std::pow(a[0].as_number(), a[1].as_number());
  if (!std::isfinite(r)) {
    JsonataError e("D3061");
    e.value = a[0];
    e.value2 = a[1];
    throw e;
  }
  return Value(r);
}

// Shifts the decimal point of x by `places` using its shortest decimal form,
// as JSONata does (through strings) to avoid binary rounding artefacts:
// 1.005 shifted by 2 is 100.5, not 100.49999999999999.
double ShiftDecimal(double x, int places) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 8, x, std::chars_format::scientific);
  if (ec != std::errc()) return x * std::pow(10, places);
  char* e = std::find(buf, end, 'e');
  int exp = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), end, exp);
  int shifted = exp + places;
  char* p = e + 1;
  if (shifted < 0) *p++ = '-';
  auto [pend, pec] = std::to_chars(p, buf + sizeof buf, shifted < 0 ? -shifted : shifted);
  double out = x;
  std::from_chars(buf, pend, out);
  return out;
}

Value Round(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  int precision = Arg(a, 1).is_number() ? SaturatingInt(std::trunc(a[1].as_number())) : 0;
  if (precision > 400 || precision < -400) return Value(precision > 0 ? a[0].as_number() : 0.0);
  return Value(RoundHalfEven(a[0].as_number(), precision));
}

Value Random(std::vector<Value>&, const CallContext&) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  return Value(dist(rng));
}

Value FormatBase(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  // Infinity has no digits (dividing it by the radix never ends).
  if (!std::isfinite(a[0].as_number())) throw JsonataError("D3001");
  double v = JsRound(a[0].as_number());
  int radix = Arg(a, 1).is_number() ? SaturatingInt(a[1].as_number()) : 10;
  if (radix < 2 || radix > 36) Fail("D3100", Arg(a, 1));
  bool neg = v < 0;
  double x = std::fabs(v);
  std::string digits;
  if (x < 1) digits = "0";
  while (x >= 1) {
    double q = std::floor(x / radix);
    int d = static_cast<int>(x - q * radix);
    digits += static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    x = q;
  }
  if (neg && digits != "0") digits += '-';
  return Value(std::string(digits.rbegin(), digits.rend()));
}

Value Boolean(std::vector<Value>& a, const CallContext&) { return ToBoolean(a[0]); }

Value Not(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(!Truthy(a[0]));
}

}  // namespace

double RoundHalfEven(double x, int precision) {
  if (precision) x = ShiftDecimal(x, precision);
  double r = JsRound(x);
  double diff = r - x;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  if (precision) r = ShiftDecimal(r, -precision);
  if (r == 0) r = 0;  // no negative zero in JSON
  return r;
}

const std::vector<BuiltinDef>& NumericBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"number", "<(nsb)-:n>", Number, 1}, {"floor", "<n-:n>", Floor, 1}, {"ceil", "<n-:n>", Ceil, 1},
      {"round", "<n-n?:n>", Round, 2},     {"abs", "<n-:n>", Abs, 1},     {"sqrt", "<n-:n>", Sqrt, 1},
      {"power", "<n-n:n>", Power, 2},      {"random", "<:n>", Random, 0}, {"formatBase", "<n-n?:s>", FormatBase, 2},
      {"boolean", "<x-:b>", Boolean, 1},   {"not", "<x-:b>", Not, 1},
  };
  return defs;
}

}  // namespace weft::expr
