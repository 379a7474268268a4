// libFuzzer target for the expression engine: parser, rewriter and evaluator.
// Input: an expression, optionally followed by "\n---\n" and a JSON document.
// Every input must end in a result or a JSONata error, never a crash, hang
// or sanitizer report, within its time and memory limits. Run with
// -dict=fuzz/expr.dict.
#include <cstdint>
#include <string_view>

#include "weft/core/json.h"
#include "weft/expr/expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view expr = text;
  weft::Value input;
  size_t sep = text.find("\n---\n");
  if (sep != std::string_view::npos) {
    expr = text.substr(0, sep);
    weft::JsonParseOptions jo;
    jo.max_depth = 200;
    auto parsed = weft::ParseJson(text.substr(sep + 5), jo);
    if (parsed.ok()) input = *parsed;
  } else {
    static const weft::Value kDoc = *weft::ParseJson(
        R"({"a":1,"b":[1,2,{"c":"x"}],"s":"Hello","o":{"k":[true,null,2.5]},"items":[{"id":"a","v":3},{"id":"b","v":1}]})");
    input = kDoc;
  }
  auto compiled = weft::expr::Expression::Compile(expr);
  if (!compiled.ok()) return 0;
  weft::expr::EvalOptions options;
  options.max_depth = 200;
  options.timeout_ms = 200;
  options.max_memory_bytes = 64 << 20;  // run with -rss_limit_mb well above it
  auto r = compiled->Evaluate(input, weft::Value(), options);
  if (r.ok()) {
    std::string out = weft::ToJson(*r);
    (void)out;
  }
  return 0;
}
