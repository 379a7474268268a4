// JsonataError: the exception the expression engine throws internally. It is
// caught at the public API (Expression::Compile / Evaluate) and turned into an
// ExprError + Status, so no exception leaves the expr component.
#pragma once

#include <optional>
#include <string>

#include "weft/core/value.h"

namespace weft::expr {

struct JsonataError {
  std::string code;   // e.g. "T2001"
  int position = -1;  // character offset in the expression (1-based end, as JSONata reports)
  std::string token;  // operator or function name involved
  Value value;        // offending value, for the message
  Value value2;
  int index = 0;       // argument index for signature errors
  std::string detail;  // free text for codes whose message is supplied ($error, $assert)

  explicit JsonataError(std::string c, int pos = -1) : code(std::move(c)), position(pos) {}
};

// Throws a JsonataError at `position` naming the token and offending values.
[[noreturn]] inline void ThrowAt(const char* code, int position, std::string token = "", Value value = Value(),
                                 Value value2 = Value()) {
  JsonataError e(code, position);
  e.token = std::move(token);
  e.value = std::move(value);
  e.value2 = std::move(value2);
  throw e;
}

// The user-facing message for an error ("The left side of the + operator must
// evaluate to a number").
std::string FormatErrorMessage(const JsonataError& e);

}  // namespace weft::expr
