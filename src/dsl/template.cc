#include "weft/dsl/template.h"

namespace weft::dsl {

Template Template::Literal(Value v) {
  Template t;
  t.literal_ = std::move(v);
  return t;
}

Template Template::Expr(expr::Expression e, std::string where) {
  Template t;
  t.kind_ = Kind::kExpr;
  t.expr_ = std::make_shared<const expr::Expression>(std::move(e));
  t.where_ = std::move(where);
  return t;
}

Template Template::Object(std::vector<std::pair<std::string, Template>> members) {
  bool all_literal = true;
  for (const auto& [key, t] : members) all_literal = all_literal && t.is_literal();
  if (all_literal) {
    Value object = Value::MakeObject();
    for (auto& [key, t] : members) object.set(key, t.literal_);
    return Literal(std::move(object));
  }
  Template t;
  t.kind_ = Kind::kObject;
  t.members_ = std::move(members);
  return t;
}

Template Template::Array(std::vector<Template> items) {
  bool all_literal = true;
  for (const Template& t : items) all_literal = all_literal && t.is_literal();
  if (all_literal) {
    Value::Array values;
    values.reserve(items.size());
    for (Template& t : items) values.push_back(t.literal_);
    return Literal(Value::MakeArray(std::move(values)));
  }
  Template t;
  t.kind_ = Kind::kArray;
  t.items_ = std::move(items);
  return t;
}

Result<Value> Template::Evaluate(const Scope& scope, const expr::EvalOptions& options) const {
  switch (kind_) {
    case Kind::kLiteral: return literal_;
    case Kind::kExpr: {
      Result<Value> r = expr_->Evaluate(scope.state, scope.bindings, options);
      if (!r.ok()) return r.status().WithContext(where_);
      return r;
    }
    case Kind::kObject: {
      Value object = Value::MakeObject(members_.size());
      for (const auto& [key, t] : members_) {
        WEFT_ASSIGN_OR_RETURN(Value v, t.Evaluate(scope, options));
        // As in JSON.stringify, an undefined member is left out.
        if (v.is_defined()) object.set(key, std::move(v));
      }
      return object;
    }
    case Kind::kArray: {
      Value::Array values;
      values.reserve(items_.size());
      for (const Template& t : items_) {
        WEFT_ASSIGN_OR_RETURN(Value v, t.Evaluate(scope, options));
        values.push_back(v.is_defined() ? std::move(v) : Value::Null());
      }
      return Value::MakeArray(std::move(values));
    }
  }
  return literal_;
}

Value Template::LiteralMembers() const {
  if (kind_ == Kind::kLiteral) return literal_.is_object() ? literal_ : Value();
  if (kind_ != Kind::kObject) return Value();
  Value out = Value::MakeObject();
  for (const auto& [key, t] : members_) {
    if (t.is_literal()) out.set(key, t.literal());
  }
  return out;
}

bool Template::HasMember(std::string_view key) const {
  if (kind_ == Kind::kLiteral) return literal_.find(key) != nullptr;
  for (const auto& [k, t] : members_)
    if (k == key) return true;
  return false;
}

void Template::CollectExpressions(std::vector<const expr::Expression*>& out) const {
  if (kind_ == Kind::kExpr) out.push_back(expr_.get());
  for (const auto& [key, t] : members_) t.CollectExpressions(out);
  for (const Template& t : items_) t.CollectExpressions(out);
}

}  // namespace weft::dsl
