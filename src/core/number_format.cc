#include "weft/core/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace weft {

void AppendJsNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Infinity" : "Infinity";
    return;
  }
  if (value == 0) {
    out += '0';  // also for -0, as JavaScript prints it
    return;
  }
  // Shortest round-trip digits in scientific form: d[.ddd]e[+-]x
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 1, value, std::chars_format::scientific);
  if (ec != std::errc()) {
    out += "NaN";
    return;
  }
  *end = '\0';  // to_chars does not terminate; atoi below needs it
  const char* p = buf;
  bool negative = false;
  if (*p == '-') {
    negative = true;
    ++p;
  }
  char digits[32] = {};
  int k = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[k++] = *p;
    ++p;
  }
  int exp10 = std::atoi(p + 1);  // value = 0.d1d2..dk * 10^(n) with n = exp10 + 1
  int n = exp10 + 1;
  if (negative) out += '-';
  if (k <= n && n <= 21) {
    out.append(digits, k);
    out.append(n - k, '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, n);
    out += '.';
    out.append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(-n, '0');
    out.append(digits, k);
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, k - 1);
    }
    out += 'e';
    int e = n - 1;
    out += e < 0 ? '-' : '+';
    out += std::to_string(std::abs(e));
  }
}

std::string JsNumberToString(double value) {
  std::string s;
  AppendJsNumber(s, value);
  return s;
}

std::string JsNumberToStringPrecision(double value, int precision) {
  if (!std::isfinite(value)) return JsNumberToString(value);
  // Integers with at most `precision` digits are unchanged by the rounding.
  if (std::fabs(value) < 1e15 && std::trunc(value) == value && precision >= 15) return JsNumberToString(value);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific, precision - 1);
  double rounded = value;
  if (ec == std::errc()) std::from_chars(buf, end, rounded);
  return JsNumberToString(rounded);
}

}  // namespace weft
