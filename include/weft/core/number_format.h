// Number to text conversions with JavaScript's rules, so that weft prints
// numbers exactly as the JSON/JSONata ecosystem does (1e21, 0.1, 100, 1e-7).
#pragma once

#include <string>

namespace weft {

// Appends Number.prototype.toString() of `value` (shortest round-trip digits).
void AppendJsNumber(std::string& out, double value);
std::string JsNumberToString(double value);

// Number(value.toPrecision(precision)).toString(): rounds to `precision`
// significant digits first (JSONata's $string uses 15).
std::string JsNumberToStringPrecision(double value, int precision);

}  // namespace weft
