#include "eval_command.h"

#include <gtest/gtest.h>

#include <sstream>

namespace weft::cli {
namespace {

struct RunResult {
  int code;
  std::string out, err;
};

RunResult Eval(EvalCommandOptions o, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  int code = RunEval(o, in, out, err);
  return {code, out.str(), err.str()};
}

TEST(EvalCommandTest, PrintsTheResult) {
  EvalCommandOptions o;
  o.expression = "a.b";
  o.input_path = "-";
  o.compact = true;
  RunResult r = Eval(o, R"({"a":{"b":[1,2]}})");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "[1,2]\n");
}

TEST(EvalCommandTest, UndefinedPrintsNothing) {
  EvalCommandOptions o;
  o.expression = "nothing";
  RunResult r = Eval(o);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
}

TEST(EvalCommandTest, ErrorsGoToStderrWithCodeAndPosition) {
  EvalCommandOptions o;
  o.expression = "1 + 'a'";
  RunResult r = Eval(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "weft eval: T2002 at position 3: The right side of the \"+\" operator must evaluate to a number\n");
}

TEST(EvalCommandTest, BadInputIsReportedWithLineAndColumn) {
  EvalCommandOptions o;
  o.expression = "$";
  o.input_path = "-";
  RunResult r = Eval(o, "{\n  \"a\": 1,\n}");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("line 3, column 1"), std::string::npos) << r.err;
}

TEST(EvalCommandTest, Bindings) {
  EvalCommandOptions o;
  o.expression = "$greeting & ', ' & $name";
  o.bindings_json = R"({"greeting":"Hello","name":"weft"})";
  RunResult r = Eval(o);
  EXPECT_EQ(r.out, "\"Hello, weft\"\n");
  o.bindings_json = "[1]";
  EXPECT_EQ(Eval(o).code, 1);
}

TEST(EvalCommandTest, JsonlBatchMode) {
  EvalCommandOptions o;
  o.jsonl = true;
  RunResult r = Eval(o,
                     "{\"expr\":\"a+1\",\"data\":{\"a\":1}}\n"
                     "{\"expr\":\"nothing\"}\n"
                     "{\"expr\":\"1 +\"}\n"
                     "\n"
                     "not json\n"
                     "{\"expr\":\"$x\",\"bindings\":{\"x\":[true]}}\n");
  EXPECT_EQ(r.code, 0);
  std::istringstream lines(r.out);
  std::string l;
  std::vector<std::string> got;
  while (std::getline(lines, l)) got.push_back(l);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], R"({"result":2})");
  EXPECT_EQ(got[1], R"({"undefined":true})");
  EXPECT_EQ(got[2], R"({"error":{"code":"S0207","position":3,"message":"Unexpected end of expression"}})");
  EXPECT_NE(got[3].find("weft.input"), std::string::npos);
  EXPECT_EQ(got[4], R"({"result":[true]})");
}

}  // namespace
}  // namespace weft::cli
