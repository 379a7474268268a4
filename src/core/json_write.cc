#include <cmath>

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

void Write(std::string& out, const Value& v, const JsonWriteOptions& o, int level) {
  const int indent = o.indent;
  switch (v.kind()) {
    case Value::Kind::kFunction: out += o.functions_as_empty_string ? "\"\"" : "null"; return;
    case Value::Kind::kUndefined:
    case Value::Kind::kNull: out += "null"; return;
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::kNumber:
      if (!std::isfinite(v.as_number())) {
        out += "null";
      } else if (o.number_precision > 0) {
        out += JsNumberToStringPrecision(v.as_number(), o.number_precision);
      } else {
        AppendJsNumber(out, v.as_number());
      }
      return;
    case Value::Kind::kString: AppendJsonString(out, v.as_string()); return;
    case Value::Kind::kArray: {
      const auto& a = v.as_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        if (indent) Newline(out, indent, level + 1);
        Write(out, a[i], o, level + 1);
      }
      if (indent) Newline(out, indent, level);
      out += ']';
      return;
    }
    case Value::Kind::kObject: {
      bool first = true;
      out += '{';
      for (const auto& m : v.members()) {
        if (Omitted(m.value, o)) continue;
        if (!first) out += ',';
        first = false;
        if (indent) Newline(out, indent, level + 1);
        AppendJsonString(out, m.key);
        out += indent ? ": " : ":";
        Write(out, m.value, o, level + 1);
      }
      if (!first && indent) Newline(out, indent, level);
      out += '}';
      return;
    }
  }
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

void AppendJson(std::string& out, const Value& value, const JsonWriteOptions& options) {
  if (Omitted(value, options)) return;
  Write(out, value, options, 0);
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
