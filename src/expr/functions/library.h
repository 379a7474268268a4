// The JSONata standard library, split by theme. Each file contributes a table
// of BuiltinDef; registry.cc gathers them into the lookup used by the
// evaluator. Built-ins receive arguments already validated against their
// signature (context substituted, single values wrapped for array params).
#pragma once

#include <string>
#include <vector>

#include "../error.h"
#include "../evaluator.h"

namespace weft::expr {

const std::vector<BuiltinDef>& AggregateBuiltins();
const std::vector<BuiltinDef>& StringBuiltins();
const std::vector<BuiltinDef>& RegexBuiltins();
const std::vector<BuiltinDef>& NumericBuiltins();
const std::vector<BuiltinDef>& ArrayBuiltins();
const std::vector<BuiltinDef>& ObjectBuiltins();
const std::vector<BuiltinDef>& HigherOrderBuiltins();
const std::vector<BuiltinDef>& DateTimeBuiltins();
const std::vector<BuiltinDef>& FormatBuiltins();
const std::vector<BuiltinDef>& EncodingBuiltins();

// Longest string a built-in may build from a size the expression chooses
// ($pad); JavaScript engines stop near 2^29 characters.
constexpr int64_t kMaxStringLength = 100'000'000;

// Throws a JsonataError with a value (and optional argument index).
[[noreturn]] inline void Fail(const char* code, Value value = Value(), int index = 0) {
  JsonataError e(code);
  e.value = std::move(value);
  e.index = index;
  throw e;
}

inline const Value& Arg(const std::vector<Value>& args, size_t i) {
  static const Value undefined;
  return i < args.size() ? args[i] : undefined;
}

// JavaScript's truthiness (used for comparator results).
bool JsTruthy(const Value& v);

// JavaScript's Math.round (halves round up).
double JsRound(double x);

// $round: round half to even at `precision` decimal places.
double RoundHalfEven(double x, int precision);

// Match objects produced by a matcher function (regex or user function).
struct MatchResult {
  std::string match;
  double start = 0;  // code point offsets
  double end = 0;
  Value groups;
  Value next;  // function or undefined
};

// Calls the matcher on `text` (a string); returns false when there is no
// match.
bool FirstMatch(const Value& matcher, const Value& text, const CallContext& ctx, MatchResult& out);
// Advances to the next match; returns false when there are no more.
bool NextMatch(MatchResult& m, const CallContext& ctx);

}  // namespace weft::expr
