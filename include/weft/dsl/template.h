// Template: a JSON value in a workflow file whose strings may be JSONata
// expressions ("=$input.message"). Compiled once at load; evaluating it
// builds the concrete value, evaluating each expression in the given scope.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/expr/expression.h"

namespace weft::dsl {

// What expressions see: bare names read `state`, `$name` reads `bindings`.
struct Scope {
  Value state;     // object: the run's working state
  Value bindings;  // object: input, context, output, iteration, accumulator, ...
};

class Template {
 public:
  Template() = default;  // evaluates to undefined
  static Template Literal(Value v);
  static Template Expr(expr::Expression e, std::string where);
  static Template Object(std::vector<std::pair<std::string, Template>> members);
  static Template Array(std::vector<Template> items);

  // The concrete value. An expression's error names the template's place
  // ("defs.classify.inputs.text: T2001 at 3: ...").
  Result<Value> Evaluate(const Scope& scope, const expr::EvalOptions& options = {}) const;

  bool is_literal() const { return kind_ == Kind::kLiteral; }
  bool is_defined() const { return kind_ != Kind::kLiteral || literal_.is_defined(); }
  // The literal value (undefined unless is_literal()).
  const Value& literal() const { return literal_; }
  // An object template's members that hold no expression (undefined when
  // this is not an object).
  Value LiteralMembers() const;
  // Whether an object template has the member, literal or expression.
  bool HasMember(std::string_view key) const;
  // Every expression in this template, in document order.
  void CollectExpressions(std::vector<const expr::Expression*>& out) const;

 private:
  enum class Kind : uint8_t { kLiteral, kExpr, kObject, kArray };
  Kind kind_ = Kind::kLiteral;
  Value literal_;
  std::shared_ptr<const expr::Expression> expr_;
  std::string where_;
  std::vector<std::pair<std::string, Template>> members_;
  std::vector<Template> items_;
};

}  // namespace weft::dsl
