// $map $filter $single $reduce
#include "library.h"

namespace weft::expr {
namespace {

Value Map(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const Value arr = a[0];
  Value out = MakeSequence();
  const auto& items = arr.as_array();
  for (size_t i = 0; i < items.size(); ++i) {
    Value r = ctx.ev.ApplyHof(a[1], items[i], Value(static_cast<double>(i)), arr, ctx);
    if (r.is_defined()) out.push_back(std::move(r));
  }
  return out;
}

Value Filter(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const Value arr = a[0];
  Value out = MakeSequence();
  const auto& items = arr.as_array();
  for (size_t i = 0; i < items.size(); ++i) {
    Value r = ctx.ev.ApplyHof(a[1], items[i], Value(static_cast<double>(i)), arr, ctx);
    if (Truthy(r)) out.push_back(items[i]);
  }
  return out;
}

Value Single(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const Value arr = a[0];
  const Value& fn = Arg(a, 1);
  bool found = false;
  Value result;
  const auto& items = arr.as_array();
  for (size_t i = 0; i < items.size(); ++i) {
    bool positive = true;
    if (fn.is_defined()) positive = Truthy(ctx.ev.ApplyHof(fn, items[i], Value(static_cast<double>(i)), arr, ctx));
    if (!positive) continue;
    if (found) throw JsonataError("D3138");
    result = items[i];
    found = true;
  }
  if (!found) throw JsonataError("D3139");
  return result;
}

Value Reduce(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const Value seq = a[0];
  const Value& fn = a[1];
  int arity = AsCallable(fn) ? AsCallable(fn)->arity() : 0;
  if (arity < 2) {
    JsonataError e("D3050");
    e.index = 1;
    throw e;
  }
  const auto& items = seq.as_array();
  Value result;
  size_t index = 0;
  if (Arg(a, 2).is_undefined() && !items.empty()) {
    result = items[0];
    index = 1;
  } else {
    result = Arg(a, 2);
  }
  for (; index < items.size(); ++index) {
    std::vector<Value> args{result, items[index]};
    if (arity >= 3) args.emplace_back(static_cast<double>(index));
    if (arity >= 4) args.push_back(seq);
    result = ctx.ev.Apply(fn, std::move(args), kCallbackContext, ctx.env);
  }
  return result;
}

}  // namespace

const std::vector<BuiltinDef>& HigherOrderBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"map", "<af>", Map, 2},
      {"filter", "<af>", Filter, 2},
      {"single", "<af?>", Single, 2},
      {"reduce", "<afj?:j>", Reduce, 3},
  };
  return defs;
}

}  // namespace weft::expr
