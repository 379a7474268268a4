// $append $reverse $shuffle $distinct $sort $zip $exists $single? (see
// higher_order.cc) — functions over sequences and arrays.
#include <algorithm>
#include <random>
#include <unordered_set>

#include "../sort.h"
#include "library.h"

namespace weft::expr {
namespace {

Value Append(std::vector<Value>& a, const CallContext&) { return AppendValues(a[0], a[1]); }

Value Reverse(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  if (a[0].size() <= 1) return a[0];
  Value::Array out(a[0].as_array().rbegin(), a[0].as_array().rend());
  return Value::MakeArray(std::move(out));
}

Value Shuffle(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  if (a[0].size() <= 1) return a[0];
  Value::Array out = a[0].as_array();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::shuffle(out.begin(), out.end(), rng);
  return Value::MakeArray(std::move(out));
}

struct ScalarKey {
  Value::Kind kind;
  double n;
  std::string s;
  bool operator==(const ScalarKey& o) const { return kind == o.kind && n == o.n && s == o.s; }
};
struct ScalarKeyHash {
  size_t operator()(const ScalarKey& k) const {
    return std::hash<std::string>()(k.s) ^ (std::hash<double>()(k.n) * 31) ^ static_cast<size_t>(k.kind);
  }
};

Value Distinct(std::vector<Value>& a, const CallContext&) {
  const Value& arr = a[0];
  if (arr.is_undefined()) return Value();
  if (!arr.is_array() || arr.size() <= 1) return arr;
  Value::Array out;
  std::unordered_set<ScalarKey, ScalarKeyHash> seen;
  std::vector<size_t> structured;  // indexes in `out` of objects/arrays
  for (const auto& v : arr.as_array()) {
    if (v.is_object() || v.is_array() || v.is_function()) {
      bool dup = false;
      for (size_t idx : structured)
        if (DeepEqual(out[idx], v)) {
          dup = true;
          break;
        }
      if (!dup) {
        structured.push_back(out.size());
        out.push_back(v);
      }
      continue;
    }
    ScalarKey k{v.kind(), v.is_number() ? v.as_number() : (v.is_bool() ? (v.as_bool() ? 1 : 0) : 0),
                v.is_string() ? v.as_string() : std::string()};
    if (seen.insert(std::move(k)).second) out.push_back(v);
  }
  return Value::MakeArray(std::move(out), arr.is_sequence() ? kArraySequence : 0);
}

Value Sort(std::vector<Value>& a, const CallContext& ctx) {
  const Value& arr = a[0];
  if (arr.is_undefined()) return Value();
  if (arr.size() <= 1) return arr;
  Value::Array items = arr.as_array();
  const Value& comparator = Arg(a, 1);
  if (comparator.is_undefined()) {
    if (IsArrayOfNumbers(arr)) {
      MergeSort(items, [](const Value& x, const Value& y) { return x.as_number() > y.as_number(); });
    } else if (IsArrayOfStrings(arr)) {
      MergeSort(items, [](const Value& x, const Value& y) { return x.as_string() > y.as_string(); });
    } else {
      Fail("D3070", arr, 1);
    }
  } else {
    MergeSort(items, [&](const Value& x, const Value& y) {
      return JsTruthy(ctx.ev.Apply(comparator, {x, y}, kCallbackContext, ctx.env));
    });
  }
  return Value::MakeArray(std::move(items));
}

Value Zip(std::vector<Value>& a, const CallContext&) {
  size_t len = SIZE_MAX;
  for (const auto& arg : a) len = std::min(len, arg.is_array() ? arg.size() : 0);
  if (a.empty()) len = 0;
  Value::Array out;
  for (size_t i = 0; i < len; ++i) {
    Value::Array tuple;
    for (const auto& arg : a) tuple.push_back(arg.as_array()[i]);
    out.push_back(Value::MakeArray(std::move(tuple)));
  }
  return Value::MakeArray(std::move(out));
}

Value Exists(std::vector<Value>& a, const CallContext&) { return Value(a[0].is_defined()); }

}  // namespace

const std::vector<BuiltinDef>& ArrayBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"append", "<xx:a>", Append, 2},    {"reverse", "<a:a>", Reverse, 1}, {"shuffle", "<a:a>", Shuffle, 1},
      {"distinct", "<x:x>", Distinct, 1}, {"sort", "<af?:a>", Sort, 2},     {"zip", "<a+>", Zip, 0},
      {"exists", "<x:b>", Exists, 1},
  };
  return defs;
}

}  // namespace weft::expr
