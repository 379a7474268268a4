#include <cmath>
#include <vector>

#include "weft/core/json.h"
#include "weft/core/number_format.h"

namespace weft {
namespace {

bool Omitted(const Value& v, const JsonWriteOptions& o) {
  return v.is_undefined() || (v.is_function() && !o.functions_as_empty_string);
}

void Newline(std::string& out, int indent, int level) {  // NOLINT
  out += '\n';
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
}

void WriteScalar(std::string& out, const Value& v, const JsonWriteOptions& o) {
  switch (v.kind()) {
    case Value::Kind::kFunction: out += o.functions_as_empty_string ? "\"\"" : "null"; return;
    case Value::Kind::kUndefined:
    case Value::Kind::kNull: out += "null"; return;
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::kNumber:
      if (!std::isfinite(v.as_number())) {
        out += "null";
      } else if (o.number_precision > 0 && std::floor(v.as_number()) != v.as_number()) {
        // Only fractions are rounded (jsonata-js: `Number.isInteger(val) ?
        // val : Number(val.toPrecision(15))`): integers keep every digit.
        out += JsNumberToStringPrecision(v.as_number(), o.number_precision);
      } else {
        AppendJsNumber(out, v.as_number());
      }
      return;
    case Value::Kind::kString: AppendJsonString(out, v.as_string()); return;
    default: return;
  }
}

// Writes with an explicit stack rather than recursion: a value nested
// arbitrarily deep is written without exhausting the call stack.
bool Write(std::string& out, const Value& root, const JsonWriteOptions& o) {
  const int indent = o.indent;
  const size_t limit = o.max_bytes == 0 ? SIZE_MAX : out.size() + o.max_bytes;
  struct Level {
    const Value* container;
    size_t next = 0;     // next element / member index
    bool wrote = false;  // an element or member was written
  };
  std::vector<Level> stack;
  auto open = [&](const Value& v) {
    if (v.is_array()) {
      if (v.size() == 0) {
        out += "[]";
        return;
      }
      out += '[';
      stack.push_back({&v});
    } else if (v.is_object()) {
      out += '{';
      stack.push_back({&v});
    } else {
      WriteScalar(out, v, o);
    }
  };
  open(root);
  while (!stack.empty()) {
    if (out.size() > limit) return false;
    Level& top = stack.back();
    const int level = static_cast<int>(stack.size());
    if (top.container->is_array()) {
      const auto& a = top.container->as_array();
      if (top.next == a.size()) {
        if (indent) Newline(out, indent, level - 1);
        out += ']';
        stack.pop_back();
        continue;
      }
      if (top.next) out += ',';
      if (indent) Newline(out, indent, level);
      const Value& item = a[top.next++];
      open(item);  // may invalidate `top`
      continue;
    }
    const auto& members = top.container->members();
    while (top.next < members.size() && Omitted(members[top.next].value, o)) ++top.next;
    if (top.next == members.size()) {
      if (top.wrote && indent) Newline(out, indent, level - 1);
      out += '}';
      stack.pop_back();
      continue;
    }
    const auto& m = members[top.next++];
    if (top.wrote) out += ',';
    top.wrote = true;
    if (indent) Newline(out, indent, level);
    AppendJsonString(out, m.key);
    out += indent ? ": " : ":";
    open(m.value);
  }
  return out.size() <= limit;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

bool AppendJson(std::string& out, const Value& value, const JsonWriteOptions& options) {
  if (Omitted(value, options)) return true;
  return Write(out, value, options);
}

void AppendJson(std::string& out, const Value& value, int indent) {
  JsonWriteOptions o;
  o.indent = indent;
  AppendJson(out, value, o);
}

std::string ToJson(const Value& value, int indent) {
  std::string out;
  AppendJson(out, value, indent);
  return out;
}

}  // namespace weft
