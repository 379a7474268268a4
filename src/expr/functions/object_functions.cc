// $keys $lookup $spread $merge $each $sift $type $clone $error $assert $eval
#include "../parser.h"
#include "library.h"

namespace weft::expr {
namespace {

void CollectKeys(const Value& v, std::vector<std::string>& keys, std::unordered_map<std::string, bool>& seen,
                 int depth = 0) {
  if (v.is_array()) {
    CheckNesting(depth);
    for (const auto& x : v.as_array()) CollectKeys(x, keys, seen, depth + 1);
  } else if (v.is_object()) {
    for (const auto& m : v.members())
      if (seen.emplace(m.key, true).second) keys.push_back(m.key);
  }
}

Value Keys(std::vector<Value>& a, const CallContext&) {
  std::vector<std::string> keys;
  std::unordered_map<std::string, bool> seen;
  CollectKeys(a[0], keys, seen);
  Value out = MakeSequence();
  for (auto& k : keys) out.push_back(Value(std::move(k)));
  return out;
}

Value LookupBuiltin(std::vector<Value>& a, const CallContext&) {
  if (!a[1].is_string()) return Value();
  return Lookup(a[0], a[1].as_string());
}

Value Spread(const Value& v, int depth = 0) {
  if (v.is_array()) {
    CheckNesting(depth);
    Value result = MakeSequence();
    for (const auto& item : v.as_array()) result = AppendValues(result, Spread(item, depth + 1));
    return result;
  }
  if (v.is_object()) {
    Value result = MakeSequence();
    for (const auto& m : v.members()) {
      Value o = Value::MakeObject();
      o.set(m.key, m.value);
      result.push_back(std::move(o));
    }
    return result;
  }
  return v;
}

Value SpreadBuiltin(std::vector<Value>& a, const CallContext&) { return Spread(a[0]); }

Value Merge(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  Value out = Value::MakeObject();
  for (const auto& obj : a[0].as_array())
    for (const auto& m : obj.members()) out.set(m.key, m.value);
  return out;
}

Value Each(std::vector<Value>& a, const CallContext& ctx) {
  Value out = MakeSequence();
  const Value obj = a[0];
  for (const auto& m : obj.members()) {
    Value r = ctx.ev.ApplyHof(a[1], m.value, Value(m.key), obj, ctx);
    if (r.is_defined()) out.push_back(std::move(r));
  }
  return out;
}

Value Sift(std::vector<Value>& a, const CallContext& ctx) {
  const Value obj = a[0];
  Value out = Value::MakeObject();
  for (const auto& m : obj.members()) {
    Value r = ctx.ev.ApplyHof(a[1], m.value, Value(m.key), obj, ctx);
    if (Truthy(r)) out.set(m.key, m.value);
  }
  if (out.size() == 0) return Value();
  return out;
}

Value Type(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return Value(std::string(KindName(a[0].kind())));
}

Value Clone(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  return DeepClone(a[0]);
}

Value Error(std::vector<Value>& a, const CallContext&) {
  JsonataError e("D3137");
  e.detail = a[0].is_string() ? a[0].as_string() : "$error() function evaluated";
  throw e;
}

Value Assert(std::vector<Value>& a, const CallContext&) {
  if (!a[0].as_bool()) {
    JsonataError e("D3141");
    e.detail = Arg(a, 1).is_string() ? a[1].as_string() : "$assert() statement failed";
    throw e;
  }
  return Value();
}

Value Eval(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  Value input = ctx.input;
  if (Arg(a, 1).is_defined()) {
    input = a[1];
    if (input.is_array() && !input.is_sequence()) {
      input = Value::MakeArray({input}, kArraySequence | kArrayOuterWrapper);
    }
  }
  auto program = std::make_shared<Program>();
  program->source = a[0].as_string();
  try {
    program->tree = ParseExpression(program->source);
  } catch (JsonataError& inner) {
    JsonataError e("D3120");
    e.value = Value(FormatErrorMessage(inner));
    throw e;
  }
  ChargeMemory(program->source.size() + static_cast<size_t>(program->tree.parsed_nodes) * sizeof(Node));
  // The nested evaluation continues this one: its depth, deadline and memory
  // count toward the caller's limits, whose errors pass through unchanged.
  try {
    return ctx.ev.EvalNested(program, input, ctx.env);
  } catch (JsonataError& inner) {
    if (inner.code.starts_with("U")) throw;
    JsonataError e("D3121");
    e.value = Value(FormatErrorMessage(inner));
    throw e;
  }
}

}  // namespace

const std::vector<BuiltinDef>& ObjectBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"keys", "<x-:a<s>>", Keys, 1},
      {"lookup", "<x-s:x>", LookupBuiltin, 2},
      {"spread", "<x-:a<o>>", SpreadBuiltin, 1},
      {"merge", "<a<o>:o>", Merge, 1},
      {"each", "<o-f:a>", Each, 2},
      {"sift", "<o-f?:o>", Sift, 2},
      {"type", "<x:s>", Type, 1},
      {"clone", "<(oa)-:o>", Clone, 1},
      {"error", "<s?:x>", Error, 1},
      {"assert", "<bs?:x>", Assert, 2},
      {"eval", "<sx?:x>", Eval, 2},
  };
  return defs;
}

}  // namespace weft::expr
