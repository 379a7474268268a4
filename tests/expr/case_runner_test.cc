// Runs every data-driven expression case in tests/expr/cases/*.jsonl.
//
// A case is one JSON line:
//   {"expr": "...", "data": <input> | "dataset": "<name in datasets/>",
//    "bindings": {...}, "options": {"timeout_ms", "max_depth", "max_memory_bytes"},
//    then one of:
//    "result": <json> | "undefined": true | "function": true | "error": "T2001"}
// Adding a case needs no C++: append a line (tools/fill_expected.mjs can fill
// the expectation from the reference implementation for review).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "weft/core/json.h"
#include "weft/expr/expression.h"

namespace weft::expr {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::string file;
  int line = 0;
  Value spec;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<Case> LoadCases() {
  std::vector<Case> out;
  fs::path dir = fs::path(WEFT_EXPR_TEST_DIR) / "cases";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::istringstream in(ReadFile(f));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Case c;
      c.file = f.filename().string();
      c.line = n;
      c.name = f.stem().string() + "_" + std::to_string(n);
      auto parsed = ParseJson(line);
      if (!parsed.ok()) {
        ADD_FAILURE() << c.file << ":" << n << ": " << parsed.status();
        continue;
      }
      c.spec = *parsed;
      out.push_back(std::move(c));
    }
  }
  return out;
}

const Value& Dataset(const std::string& name) {
  static std::map<std::string, Value> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto v = ParseJson(ReadFile(fs::path(WEFT_EXPR_TEST_DIR) / "datasets" / (name + ".json")));
    it = cache.emplace(name, v.ok() ? *v : Value()).first;
  }
  return it->second;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.file << ":" << c.line; }

class ExpressionCaseTest : public testing::TestWithParam<Case> {};

TEST_P(ExpressionCaseTest, Matches) {
  const Case& c = GetParam();
  const Value& spec = c.spec;
  const std::string expr = spec.get("expr").as_string();
  SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + ": " + expr);
  Value input = spec.find("dataset") ? Dataset(spec.get("dataset").as_string()) : spec.get("data");
  EvalOptions options;
  options.timeout_ms = 10000;
  // "options": {"timeout_ms", "max_depth", "max_memory_bytes"} for cases
  // about the limits themselves.
  const Value limits = spec.get("options");
  if (Value v = limits.get("timeout_ms"); v.is_number()) options.timeout_ms = static_cast<int64_t>(v.as_number());
  if (Value v = limits.get("max_depth"); v.is_number()) options.max_depth = static_cast<int>(v.as_number());
  if (Value v = limits.get("max_memory_bytes"); v.is_number())
    options.max_memory_bytes = static_cast<int64_t>(v.as_number());
  ExprError error;
  Result<Value> result = InvalidArgumentError("not run");
  auto compiled = Expression::Compile(expr, &error);
  if (compiled.ok()) result = compiled->Evaluate(input, spec.get("bindings"), options, &error);

  if (const Value* code = spec.find("error")) {
    ASSERT_FALSE(result.ok()) << "expected error " << code->as_string() << ", got " << ToJson(*result);
    EXPECT_EQ(error.code, code->as_string()) << error.message;
    EXPECT_FALSE(error.message.empty());
    return;
  }
  ASSERT_TRUE(result.ok()) << error.code << ": " << error.message;
  if (spec.find("undefined")) {
    EXPECT_TRUE(result->is_undefined()) << ToJson(*result);
  } else if (spec.find("function")) {
    EXPECT_TRUE(result->is_function());
  } else {
    const Value& expected = spec.get("result");
    // Compare through JSON so that numbers agree to the printed digit and
    // object member order does not matter.
    auto reparsed = ParseJson(ToJson(*result));
    ASSERT_TRUE(reparsed.ok());
    EXPECT_EQ(*reparsed, expected) << "got " << ToJson(*result) << "\nwant " << ToJson(expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ExpressionCaseTest, testing::ValuesIn(LoadCases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace weft::expr
