// weft::expr — the JSONata expression engine.
//
//   auto e = Expression::Compile("urgency = 'high' and confidence < 0.7");
//   Result<Value> r = e->Evaluate(state);
//
// Compile once, evaluate many times: an Expression is immutable after
// Compile and may be evaluated concurrently from any number of threads.
// Copying an Expression is cheap (it shares the compiled program).
//
// Errors carry JSONata's error code (S0201, T2001, D3030, ...), the character
// position in the expression and a readable message. Evaluation can be bounded
// in depth, time and memory so that a runaway expression cannot hang a
// worker or grow it without limit; an evaluation nested with $eval shares the
// limits of the one that called it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/clock.h"
#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::expr {

struct Program;

// A JSONata error: code, position (character offset; -1 when unknown), the
// token involved, and the full message.
struct ExprError {
  std::string code;
  int position = -1;
  std::string token;
  std::string message;

  // InvalidArgument for syntax/type/dynamic errors, DeadlineExceeded for
  // timeouts, ResourceExhausted for depth and memory limits. Message:
  // "T2001 at position 3: ...".
  Status ToStatus() const;
};

struct EvalOptions {
  // Maximum nesting of evaluation (recursive function calls, deep paths).
  int max_depth = 1000;
  // Wall-clock budget for one evaluation in milliseconds; 0 = unlimited.
  int64_t timeout_ms = 0;
  // Bytes of values (strings, arrays, objects, functions) one evaluation may
  // create, counted as they are created and never credited back (see
  // weft/core/memory_budget.h); past it the evaluation fails with U1005.
  // 0 = unlimited.
  int64_t max_memory_bytes = int64_t{256} << 20;
  // Source of $now()/$millis() and of deadlines; nullptr = system clock.
  const Clock* clock = nullptr;
};

// A function the host makes callable from expressions (e.g. $secret).
// `signature` uses JSONata's syntax ("<s:s>"); empty = no validation.
struct HostFunction {
  std::string signature;
  std::function<Result<Value>(const std::vector<Value>& args)> fn;
};

// Wraps a host function as a Value, to pass in the bindings object.
Value MakeHostFunction(HostFunction fn);

class Expression {
 public:
  // Parses and checks an expression. On failure returns InvalidArgument and,
  // if `error` is given, fills it with the JSONata error details.
  static Result<Expression> Compile(std::string_view text, ExprError* error = nullptr);

  // Evaluates against `input`. `bindings` (an object, or undefined) supplies
  // variables: {"name": value} is visible as $name. An undefined result (no
  // match) is returned as an undefined Value, not an error.
  Result<Value> Evaluate(const Value& input, const Value& bindings = Value(), const EvalOptions& options = {},
                         ExprError* error = nullptr) const;

  const std::string& source() const;
  // Whether evaluating may read the variable $name (always true for
  // expressions that use $eval, which can read any).
  bool Reads(std::string_view name) const;
  // Whether the text itself names $name (what $eval reads is not counted).
  bool Names(std::string_view name) const;
  // Whether evaluating reads the input document (a field name, $, $$ where
  // the expression starts): a workflow expression then reads weft's working
  // state, which Hexabot does not have.
  bool ReadsInput() const;
  // Whether the text writes '==' (weft's alias of JSONata's '=').
  bool UsesDoubleEquals() const;

 private:
  explicit Expression(std::shared_ptr<const Program> p) : program_(std::move(p)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace weft::expr
