#include "eval_command.h"

#include <iostream>

#include "weft/core/file.h"
#include "weft/core/json.h"
#include "weft/expr/expression.h"

namespace weft::cli {
namespace {

Value ErrorObject(const std::string& code, int position, const std::string& message) {
  Value e = Value::MakeObject();
  e.set("code", Value(code));
  if (position >= 0) e.set("position", Value(position));
  e.set("message", Value(message));
  Value o = Value::MakeObject();
  o.set("error", std::move(e));
  return o;
}

// One --jsonl case: {"expr":..., "data":..., "bindings":...}
Value RunCase(const std::string& line, const expr::EvalOptions& eo) {
  Result<Value> parsed = ParseJson(line);
  if (!parsed.ok()) return ErrorObject("weft.input", -1, parsed.status().message());
  const Value& c = *parsed;
  const Value* text = c.find("expr");
  if (!text || !text->is_string()) return ErrorObject("weft.input", -1, "case has no string \"expr\" member");
  expr::ExprError error;
  auto compiled = expr::Expression::Compile(text->as_string(), &error);
  if (!compiled.ok()) return ErrorObject(error.code, error.position, error.message);
  Value bindings = c.get("bindings");
  if (bindings.is_defined() && !bindings.is_object())
    return ErrorObject("weft.input", -1, "\"bindings\" must be an object");
  auto r = compiled->Evaluate(c.get("data"), bindings, eo, &error);
  if (!r.ok()) return ErrorObject(error.code, error.position, error.message);
  Value o = Value::MakeObject();
  if (r->is_undefined()) {
    o.set("undefined", Value(true));
  } else if (r->is_function()) {
    o.set("function", Value(true));
  } else {
    o.set("result", *r);
  }
  return o;
}

}  // namespace

int RunEval(const EvalCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  expr::EvalOptions eo;
  eo.timeout_ms = options.timeout_ms;
  eo.max_depth = options.max_depth;
  eo.max_memory_bytes = options.max_memory_mb << 20;
  if (options.jsonl) {
    std::string line;
    std::string buf;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      buf.clear();
      AppendJson(buf, RunCase(line, eo));
      buf += '\n';
      out << buf;
    }
    out.flush();
    return 0;
  }

  Value input;
  if (!options.input_path.empty()) {
    std::string text;
    if (options.input_path == "-") {
      // Bounded like a file: a stream that never ends is an error, not a
      // process that grows until it is killed.
      char buf[65536];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        if (text.size() + static_cast<size_t>(in.gcount()) > kMaxUserFileBytes) {
          err << "weft eval: stdin is larger than " << (kMaxUserFileBytes >> 20)
              << " MiB, the most weft reads as input\n";
          return 1;
        }
        text.append(buf, static_cast<size_t>(in.gcount()));
      }
    } else {
      Result<std::string> read = ReadFileBounded(options.input_path);
      if (!read.ok()) {
        err << "weft eval: input file: " << read.status().message() << "\n";
        return 1;
      }
      text = std::move(read).value();
    }
    auto parsed = ParseJson(text);
    if (!parsed.ok()) {
      err << "weft eval: " << (options.input_path == "-" ? "stdin" : options.input_path) << ": "
          << parsed.status().message() << "\n";
      return 1;
    }
    input = std::move(parsed).value();
  }
  Value bindings;
  if (!options.bindings_json.empty()) {
    auto parsed = ParseJson(options.bindings_json);
    if (!parsed.ok() || !parsed->is_object()) {
      err << "weft eval: --bindings must be a JSON object"
          << (parsed.ok() ? std::string() : ": " + parsed.status().message()) << "\n";
      return 1;
    }
    bindings = std::move(parsed).value();
  }
  expr::ExprError error;
  auto compiled = expr::Expression::Compile(options.expression, &error);
  if (!compiled.ok()) {
    err << "weft eval: " << error.code << " at position " << error.position << ": " << error.message << "\n";
    return 1;
  }
  auto r = compiled->Evaluate(input, bindings, eo, &error);
  if (!r.ok()) {
    err << "weft eval: " << error.code;
    if (error.position >= 0) err << " at position " << error.position;
    err << ": " << error.message << "\n";
    return 1;
  }
  if (r->is_undefined()) return 0;
  std::string s = ToJson(*r, options.compact ? 0 : 2);
  out << s << "\n";
  return 0;
}

}  // namespace weft::cli
