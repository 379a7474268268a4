// JSON Schema through valijson. valijson reads nlohmann::json through an
// adapter, so instances are converted once per validation; schemas once at
// compile time.
#define VALIJSON_USE_EXCEPTIONS 1
#include "weft/dsl/schema.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "weft/core/json.h"
#include "weft/core/utf8.h"

namespace weft::dsl {

namespace {

// A schema of a few keywords only (type, properties, required, enum of
// strings, items, additionalProperties as a bool, and the annotations), as
// inputs written as Hexabot field maps compile to. An instance it accepts
// is valid without valijson, whose conversion of the instance costs more
// than the check; one it refuses still goes to valijson, whose message says
// what is wrong. So it must never accept what valijson refuses.
struct Simple {
  enum Type : uint8_t {
    kObject = 1,
    kArray = 2,
    kString = 4,
    kNumber = 8,
    kBoolean = 16,
    kNull = 32,
  };
  uint8_t types = 0;                     // 0: any
  std::vector<std::string> enumeration;  // strings only; empty: no enum
  std::vector<std::string> property_names;
  std::vector<Simple> property_schemas;  // property_names' schemas, in order
  std::vector<std::string> required;
  bool closed = false;  // additionalProperties: false
  std::unique_ptr<Simple> items;
};

constexpr int kMaxSimpleDepth = 16;

std::optional<uint8_t> SimpleType(const std::string& name) {
  if (name == "object") return Simple::kObject;
  if (name == "array") return Simple::kArray;
  if (name == "string") return Simple::kString;
  if (name == "number") return Simple::kNumber;  // "integer" is valijson's to decide
  if (name == "boolean") return Simple::kBoolean;
  if (name == "null") return Simple::kNull;
  return std::nullopt;
}

// The Simple form of `doc`; nullopt when it uses anything else.
std::optional<Simple> ToSimple(const Value& doc, int depth) {
  if (depth > kMaxSimpleDepth || !doc.is_object()) return std::nullopt;
  Simple out;
  for (const auto& m : doc.members()) {
    const Value& v = m.value;
    if (m.key == "title" || m.key == "description" || m.key == "default" || m.key == "examples" ||
        m.key == "$comment") {
      continue;
    }
    if (m.key == "type") {
      if (v.is_string()) {
        std::optional<uint8_t> t = SimpleType(v.as_string());
        if (!t) return std::nullopt;
        out.types = *t;
      } else if (v.is_array() && v.size() > 0) {
        for (const Value& name : v.as_array()) {
          std::optional<uint8_t> t = name.is_string() ? SimpleType(name.as_string()) : std::nullopt;
          if (!t) return std::nullopt;
          out.types |= *t;
        }
      } else {
        return std::nullopt;
      }
    } else if (m.key == "enum") {
      if (!v.is_array() || v.size() == 0) return std::nullopt;
      for (const Value& e : v.as_array()) {
        if (!e.is_string()) return std::nullopt;
        out.enumeration.push_back(e.as_string());
      }
    } else if (m.key == "required") {
      if (!v.is_array()) return std::nullopt;
      for (const Value& r : v.as_array()) {
        if (!r.is_string()) return std::nullopt;
        out.required.push_back(r.as_string());
      }
    } else if (m.key == "properties") {
      if (!v.is_object()) return std::nullopt;
      for (const auto& p : v.members()) {
        std::optional<Simple> sub = ToSimple(p.value, depth + 1);
        if (!sub) return std::nullopt;
        out.property_names.push_back(p.key);
        out.property_schemas.push_back(std::move(*sub));
      }
    } else if (m.key == "additionalProperties") {
      if (!v.is_bool()) return std::nullopt;
      out.closed = !v.as_bool();
    } else if (m.key == "items") {
      std::optional<Simple> sub = ToSimple(v, depth + 1);
      if (!sub) return std::nullopt;
      out.items = std::make_unique<Simple>(std::move(*sub));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Whether `v` is valid under `s` (false may also mean "ask valijson").
bool SimpleAccepts(const Simple& s, const Value& v) {
  uint8_t type = 0;
  switch (v.kind()) {
    case Value::Kind::kObject: type = Simple::kObject; break;
    case Value::Kind::kArray: type = Simple::kArray; break;
    case Value::Kind::kString: type = Simple::kString; break;
    case Value::Kind::kNumber: type = Simple::kNumber; break;
    case Value::Kind::kBool: type = Simple::kBoolean; break;
    case Value::Kind::kNull: type = Simple::kNull; break;
    default: return false;  // undefined, a function: valijson sees null
  }
  if (s.types != 0 && (s.types & type) == 0) return false;
  if (!s.enumeration.empty() &&
      (!v.is_string() || std::find(s.enumeration.begin(), s.enumeration.end(), v.as_string()) == s.enumeration.end())) {
    return false;
  }
  if (v.is_object()) {
    for (const std::string& r : s.required) {
      if (v.find(r) == nullptr) return false;
    }
    for (const auto& m : v.members()) {
      const Simple* sub = nullptr;
      for (size_t i = 0; i < s.property_names.size(); ++i) {
        if (s.property_names[i] == m.key) sub = &s.property_schemas[i];
      }
      if (sub == nullptr ? s.closed : !SimpleAccepts(*sub, m.value)) return false;
    }
  } else if (v.is_array() && s.items != nullptr) {
    for (const Value& item : v.as_array()) {
      if (!SimpleAccepts(*s.items, item)) return false;
    }
  }
  return true;
}

}  // namespace

struct Schema::Impl {
  // Schemas that only constrain the JSON type ({}, {"type": "object"}, ...)
  // are checked directly: most action inputs are like that, and converting
  // the instance for valijson would cost more than the step itself. Other
  // schemas of a few keywords accept valid instances directly (Simple).
  enum class Fast : uint8_t { kNone, kAnything, kType };
  Fast fast = Fast::kNone;
  std::string type;
  std::optional<Simple> simple;
  Value document;
  nlohmann::json json;  // keeps the parsed document alive for valijson
  valijson::Schema schema;
};

namespace {

// Whether every string (and key) in `v` is valid UTF-8: valijson's length
// checks read out of bounds on anything else.
bool AllStringsUtf8(const Value& v) {
  std::vector<const Value*> todo{&v};
  while (!todo.empty()) {
    const Value* x = todo.back();
    todo.pop_back();
    if (x->is_string() && !IsValidUtf8(x->as_string())) return false;
    if (x->is_array()) {
      for (const Value& item : x->as_array()) todo.push_back(&item);
    } else if (x->is_object()) {
      for (const auto& m : x->members()) {
        if (!IsValidUtf8(m.key)) return false;
        todo.push_back(&m.value);
      }
    }
  }
  return true;
}

nlohmann::json ToNlohmann(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull:
    case Value::Kind::kFunction: return nullptr;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kNumber: {
      double d = v.as_number();
      // Integral numbers as integers, so that "type: integer" accepts them.
      // (Range first: casting a double beyond int64 is undefined behaviour.)
      if (d > -9.0e15 && d < 9.0e15 && d == static_cast<double>(static_cast<int64_t>(d))) {
        return static_cast<int64_t>(d);
      }
      return d;
    }
    case Value::Kind::kString: return v.as_string();
    case Value::Kind::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (const Value& item : v.as_array()) out.push_back(ToNlohmann(item));
      return out;
    }
    case Value::Kind::kObject: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& m : v.members()) out[m.key] = ToNlohmann(m.value);
      return out;
    }
  }
  return nullptr;
}

// "<root>", "[urgency]", "[0]" → "urgency[0]".
std::string FieldPath(const std::vector<std::string>& context) {
  std::string path;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    std::string name = part;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
      std::string inner = name.substr(1, name.size() - 2);
      bool index = !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos;
      if (index) {
        path += "[" + inner + "]";
        continue;
      }
      if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"') inner = inner.substr(1, inner.size() - 2);
      name = inner;
    }
    if (!path.empty()) path += '.';
    path += name;
  }
  return path;
}

// The instance value that `context` points at (undefined when absent).
Value ValueAt(const Value& root, const std::vector<std::string>& context) {
  Value v = root;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    if (part.size() < 2 || part.front() != '[' || part.back() != ']') return Value();
    std::string inner = part.substr(1, part.size() - 2);
    if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"') {
      v = v.get(inner.substr(1, inner.size() - 2));
    } else if (v.is_array() && !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos) {
      size_t i = std::stoul(inner);
      if (i >= v.size()) return Value();
      v = Value(v.as_array()[i]);
    } else {
      v = v.get(inner);
    }
  }
  return v;
}

}  // namespace

Schema Schema::FromLiteral(std::string_view json) {
  Result<Value> document = ParseJson(json);
  Result<Schema> schema = document.ok() ? Compile(*document) : Result<Schema>(document.status());
  if (!schema.ok()) {
    std::fprintf(stderr, "weft: a schema in the code is invalid: %s\n", schema.status().ToString().c_str());
    std::abort();
  }
  return std::move(schema).value();
}

Result<Schema> Schema::Compile(const Value& document) {
  if (!AllStringsUtf8(document)) return InvalidArgumentError("a JSON Schema must be UTF-8 text");
  if (!document.is_object() && !document.is_bool()) {
    return InvalidArgumentError("a JSON Schema must be an object, not " + std::string(KindName(document.kind())));
  }
  auto impl = std::make_shared<Impl>();
  impl->document = document;
  if (document.is_bool() ? document.as_bool() : document.size() == 0) {
    impl->fast = Impl::Fast::kAnything;
  } else if (document.size() == 1 && document.find("type") != nullptr && document.find("type")->is_string()) {
    const std::string& t = document.find("type")->as_string();
    if (t == "object" || t == "array" || t == "string" || t == "number" || t == "boolean" || t == "null") {
      impl->fast = Impl::Fast::kType;
      impl->type = t;
    }
  }
  if (impl->fast == Impl::Fast::kNone) impl->simple = ToSimple(document, 0);
  impl->json = ToNlohmann(document);
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(impl->json);
    parser.populateSchema(adapter, impl->schema);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("invalid JSON Schema: ") + e.what());
  }
  return Schema(std::move(impl));
}

namespace {

bool HasJsonType(const Value& v, const std::string& type) {
  switch (v.kind()) {
    case Value::Kind::kObject: return type == "object";
    case Value::Kind::kArray: return type == "array";
    case Value::Kind::kString: return type == "string";
    case Value::Kind::kNumber: return type == "number";
    case Value::Kind::kBool: return type == "boolean";
    default: return type == "null";
  }
}

}  // namespace

Status Schema::Validate(const Value& instance, std::string_view what) const {
  if (impl_->fast == Impl::Fast::kAnything) return Status::Ok();
  if (impl_->fast == Impl::Fast::kType) {
    if (HasJsonType(instance, impl_->type)) return Status::Ok();
    return InvalidArgumentError(std::string(what) + ": must be " + (impl_->type == "object" ? "an " : "a ") +
                                impl_->type + ", not " + std::string(KindName(instance.kind())));
  }
  if (!AllStringsUtf8(instance)) return InvalidArgumentError(std::string(what) + ": contains text that is not UTF-8");
  if (impl_->simple && SimpleAccepts(*impl_->simple, instance)) return Status::Ok();
  nlohmann::json json = ToNlohmann(instance);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(json);
  bool ok = false;
  try {
    ok = validator.validate(impl_->schema, adapter, &results);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(what) + ": schema validation failed: " + e.what());
  }
  if (ok) return Status::Ok();
  // valijson reports a chain from the root to the failing leaf; the deepest
  // entry names the field and the rule.
  const valijson::ValidationResults::Error* deepest = nullptr;
  for (const auto& error : results) {
    if (deepest == nullptr || error.context.size() > deepest->context.size()) deepest = &error;
  }
  std::string message(what);
  if (deepest != nullptr) {
    std::string field = FieldPath(deepest->context);
    if (!field.empty()) message += " field '" + field + "'";
    message += ": " + deepest->description;
    // valijson names the rule; say what was found.
    Value found = ValueAt(instance, deepest->context);
    if (found.is_defined() && !found.is_object() && !found.is_array()) {
      std::string shown = ToJson(found);
      if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
      message += " (found " + std::string(KindName(found.kind())) + " " + shown + ")";
    } else if (found.is_defined()) {
      message += " (found " + std::string(KindName(found.kind())) + ")";
    }
  } else {
    message += ": does not match its schema";
  }
  return InvalidArgumentError(std::move(message));
}

const Value& Schema::document() const { return impl_->document; }

}  // namespace weft::dsl
