// $sum $count $max $min $average
#include <cmath>

#include "library.h"

namespace weft::expr {
namespace {

Value Sum(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  double total = 0;
  for (const auto& x : a[0].as_array()) total += x.as_number();
  return Value(total);
}

Value Count(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value(0);
  return Value(a[0].size());
}

Value Max(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined() || a[0].size() == 0) return Value();
  double m = -INFINITY;
  for (const auto& x : a[0].as_array()) m = std::max(m, x.as_number());
  return Value(m);
}

Value Min(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined() || a[0].size() == 0) return Value();
  double m = INFINITY;
  for (const auto& x : a[0].as_array()) m = std::min(m, x.as_number());
  return Value(m);
}

Value Average(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined() || a[0].size() == 0) return Value();
  double total = 0;
  for (const auto& x : a[0].as_array()) total += x.as_number();
  return Value(total / static_cast<double>(a[0].size()));
}

}  // namespace

const std::vector<BuiltinDef>& AggregateBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"sum", "<a<n>:n>", Sum, 1}, {"count", "<a:n>", Count, 1},        {"max", "<a<n>:n>", Max, 1},
      {"min", "<a<n>:n>", Min, 1}, {"average", "<a<n>:n>", Average, 1},
  };
  return defs;
}

}  // namespace weft::expr
