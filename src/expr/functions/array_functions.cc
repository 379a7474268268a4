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

// A hash consistent with DeepEqual (numbers by value, objects ignoring member
// order), so $distinct is linear whatever the items are.
size_t DeepHash(const Value& v, int depth = 0) {
  CheckNesting(depth);
  auto mix = [](size_t h, size_t x) { return h ^ (x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); };
  size_t h = static_cast<size_t>(v.kind());
  switch (v.kind()) {
    case Value::Kind::kBool: return mix(h, v.as_bool());
    case Value::Kind::kNumber: {
      double n = v.as_number();
      if (n == 0) n = 0;  // -0 equals 0
      return mix(h, std::hash<double>{}(n));
    }
    case Value::Kind::kString: return mix(h, std::hash<std::string_view>{}(v.as_string()));
    case Value::Kind::kArray:
      for (const auto& x : v.as_array()) h = mix(h, DeepHash(x, depth + 1));
      return h;
    case Value::Kind::kObject: {
      size_t sum = 0;  // order-independent
      for (const auto& m : v.members()) sum += mix(std::hash<std::string_view>{}(m.key), DeepHash(m.value, depth + 1));
      return mix(h, sum);
    }
    case Value::Kind::kFunction: return mix(h, std::hash<const void*>{}(v.identity()));
    default: return h;
  }
}

Value Distinct(std::vector<Value>& a, const CallContext& ctx) {
  const Value& arr = a[0];
  if (arr.is_undefined()) return Value();
  if (!arr.is_array() || arr.size() <= 1) return arr;
  const auto& items = arr.as_array();
  auto hash = [&](size_t i) { return DeepHash(items[i]); };
  auto equal = [&](size_t i, size_t j) { return DeepEqual(items[i], items[j]); };
  std::unordered_set<size_t, decltype(hash), decltype(equal), BudgetedAllocator<size_t>> seen(items.size(), hash,
                                                                                              equal);
  Value::Array out;
  for (size_t i = 0; i < items.size(); ++i) {
    ctx.ev.Tick();
    if (seen.insert(i).second) out.push_back(items[i]);
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
      MergeSort(items, [&](const Value& x, const Value& y) {
        ctx.ev.Tick();
        return x.as_number() > y.as_number();
      });
    } else if (IsArrayOfStrings(arr)) {
      MergeSort(items, [&](const Value& x, const Value& y) {
        ctx.ev.Tick();
        return x.as_string() > y.as_string();
      });
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
