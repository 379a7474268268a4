#include <cmath>
#include <unordered_map>

#include "library.h"

namespace weft::expr {
namespace {

struct Registry {
  std::vector<std::unique_ptr<Signature>> signatures;
  std::unordered_map<std::string_view, Value> functions;

  Registry() {
    for (auto* table : {&AggregateBuiltins, &StringBuiltins, &RegexBuiltins, &NumericBuiltins, &ArrayBuiltins,
                        &ObjectBuiltins, &HigherOrderBuiltins, &DateTimeBuiltins, &FormatBuiltins, &EncodingBuiltins}) {
      for (const BuiltinDef& def : (*table)()) {
        signatures.push_back(std::make_unique<Signature>(Signature::Parse(def.signature)));
        functions.emplace(def.name, Value::FromFunction(new BuiltinFunction(&def, signatures.back().get())));
      }
    }
  }
};

const Registry& GetRegistry() {
  static const Registry registry;  // immutable after construction; thread-safe init
  return registry;
}

}  // namespace

const Value* FindBuiltin(std::string_view name) {
  const auto& fns = GetRegistry().functions;
  auto it = fns.find(name);
  return it == fns.end() ? nullptr : &it->second;
}

bool JsTruthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull: return false;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kNumber: return v.as_number() != 0 && v.as_number() == v.as_number();
    case Value::Kind::kString: return !v.as_string().empty();
    default: return true;
  }
}

double JsRound(double x) { return std::floor(x + 0.5); }

}  // namespace weft::expr
